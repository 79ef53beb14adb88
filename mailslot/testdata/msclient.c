/*
 * msclient: a mailslot client written against the raw Win32 API, for the
 * interop tests of package mailslot (interop_windows_test.go).
 *
 * Usage: msclient.exe SLOTNAME MAXSIZE
 *
 * Opens SLOTNAME as the Win32 documentation shows (CreateFile with
 * GENERIC_WRITE, FILE_SHARE_READ, OPEN_EXISTING), retrying for up to 10 s
 * while it does not exist yet, and writes with WriteFile, one message each:
 *   "one", "two", a zero-length message, 300 bytes 'a'+i%26, "last"
 * then prints "sent" and waits for a line on stdin. Then it writes a message
 * of MAXSIZE+1 bytes (more than the slot takes) and prints
 * "oversize ok" or "oversize error CODE", writes "after", prints "done"
 * and exits 0. On any other failure it prints what went wrong to stderr and
 * exits 1.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o msclient.exe msclient.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE h;

static int fail(const char *call) {
    fprintf(stderr, "msclient: %s failed: error %lu\n", call, GetLastError());
    return 1;
}

static int writemsg(const char *buf, DWORD len) {
    DWORD n = 0;
    if (!WriteFile(h, buf, len, &n, NULL))
        return fail("WriteFile");
    if (n != len) {
        fprintf(stderr, "msclient: short write: %lu of %lu bytes\n", n, len);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    static char big[300];
    char line[64], *over;
    DWORD i, start, maxsize, n = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: msclient SLOTNAME MAXSIZE\n");
        return 2;
    }
    maxsize = (DWORD)atol(argv[2]);
    start = GetTickCount();
    for (;;) {
        h = CreateFileA(argv[1], GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                        FILE_ATTRIBUTE_NORMAL, NULL);
        if (h != INVALID_HANDLE_VALUE)
            break;
        if (GetLastError() != ERROR_FILE_NOT_FOUND || GetTickCount() - start > 10000)
            return fail("CreateFile");
        Sleep(10);
    }
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    if (writemsg("one", 3) || writemsg("two", 3) || writemsg("", 0) ||
        writemsg(big, sizeof big) || writemsg("last", 4))
        return 1;
    printf("sent\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(stderr, "msclient: no go-ahead on stdin\n");
        return 1;
    }

    over = malloc(maxsize + 1);
    if (!over) {
        fprintf(stderr, "msclient: out of memory\n");
        return 1;
    }
    memset(over, 'X', maxsize + 1);
    if (WriteFile(h, over, maxsize + 1, &n, NULL))
        printf("oversize ok\n");
    else
        printf("oversize error %lu\n", GetLastError());
    free(over);
    if (writemsg("after", 5))
        return 1;
    printf("done\n");
    fflush(stdout);
    CloseHandle(h);
    return 0;
}
