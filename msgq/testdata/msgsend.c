/* msgsend NAME: a Win32 program that finds the window titled NAME with
 * FindWindowEx(HWND_MESSAGE, ...) (then FindWindow) and talks to it the
 * raw Win32 way, for the msgq interop tests:
 *   SendMessageW(WM_USER+1, 20, 22)            prints "send RESULT"
 *   SendMessageW(WM_COPYDATA, {7, "hello from C"})  prints "copydata RESULT"
 *   PostMessageW(WM_USER+2, 1, 2)              prints "posted"
 * and exits 0, or prints the failing call and its error and exits 1. */
#include <windows.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: msgsend NAME\n");
		return 2;
	}
	wchar_t name[512];
	if (!MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, name, 512)) {
		fprintf(stderr, "bad name\n");
		return 2;
	}
	HWND hwnd = FindWindowExW(HWND_MESSAGE, NULL, NULL, name);
	if (!hwnd)
		hwnd = FindWindowW(NULL, name);
	if (!hwnd) {
		printf("FindWindowEx: not found (%lu)\n", GetLastError());
		return 1;
	}
	LRESULT r = SendMessageW(hwnd, WM_USER + 1, 20, 22);
	printf("send %lld\n", (long long)r);
	static char text[] = "hello from C";
	COPYDATASTRUCT cds = {7, sizeof text - 1, text};
	r = SendMessageW(hwnd, WM_COPYDATA, 0, (LPARAM)&cds);
	printf("copydata %lld\n", (long long)r);
	if (!PostMessageW(hwnd, WM_USER + 2, 1, 2)) {
		printf("PostMessage: %lu\n", GetLastError());
		return 1;
	}
	printf("posted\n");
	return 0;
}
