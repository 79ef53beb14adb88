/* msgwin NAME: a Win32 program with a message-only window titled NAME, for
 * the msgq interop tests. Its window procedure answers WM_USER+1 with
 * wParam+lParam and WM_COPYDATA with dwData plus the sum of the bytes; its
 * message loop prints each posted message ("posted 0x0402 1 2") and ends at
 * WM_QUIT ("quit"). It prints "ready" once the window exists. */
#include <windows.h>
#include <stdio.h>

static LRESULT CALLBACK proc(HWND hwnd, UINT msg, WPARAM w, LPARAM l)
{
	if (msg == WM_USER + 1) {
		printf("sent 0x%04x %llu %lld\n", msg, (unsigned long long)w, (long long)l);
		fflush(stdout);
		return (LRESULT)(w + l);
	}
	if (msg == WM_COPYDATA) {
		COPYDATASTRUCT *cds = (COPYDATASTRUCT *)l;
		unsigned long long sum = cds->dwData;
		const unsigned char *p = cds->lpData;
		for (DWORD i = 0; i < cds->cbData; i++)
			sum += p[i];
		printf("copydata %lu %llu\n", (unsigned long)cds->cbData, sum);
		fflush(stdout);
		return (LRESULT)sum;
	}
	return DefWindowProcW(hwnd, msg, w, l);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: msgwin NAME\n");
		return 2;
	}
	wchar_t name[512];
	if (!MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, name, 512)) {
		fprintf(stderr, "bad name\n");
		return 2;
	}
	WNDCLASSEXW wc = {0};
	wc.cbSize = sizeof wc;
	wc.lpfnWndProc = proc;
	wc.hInstance = GetModuleHandleW(NULL);
	wc.lpszClassName = L"xipc-interop-msgwin";
	if (!RegisterClassExW(&wc)) {
		fprintf(stderr, "RegisterClassEx: %lu\n", GetLastError());
		return 1;
	}
	HWND hwnd = CreateWindowExW(0, wc.lpszClassName, name, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, wc.hInstance, NULL);
	if (!hwnd) {
		fprintf(stderr, "CreateWindowEx: %lu\n", GetLastError());
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	MSG m;
	BOOL r;
	while ((r = GetMessageW(&m, NULL, 0, 0)) > 0) {
		printf("posted 0x%04x %llu %lld\n", m.message, (unsigned long long)m.wParam, (long long)m.lParam);
		fflush(stdout);
		DispatchMessageW(&m);
	}
	if (r < 0) {
		fprintf(stderr, "GetMessage: %lu\n", GetLastError());
		return 1;
	}
	printf("quit\n");
	fflush(stdout);
	DestroyWindow(hwnd);
	return 0;
}
