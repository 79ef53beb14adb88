/*
 * msgclient: a message-mode named pipe client written against the raw Win32
 * API, for the interop tests of package pipe (interop_windows_test.go).
 *
 * Usage: msgclient.exe PIPENAME SERVERPID
 *
 * Opens PIPENAME with CreateFile (waiting with WaitNamedPipe while it is
 * busy, and retrying for up to 10 s while it does not exist yet), switches
 * to PIPE_READMODE_MESSAGE with SetNamedPipeHandleState, checks that
 * GetNamedPipeServerProcessId gives SERVERPID, and then talks to a server
 * that answers each message M with "re:" M (and a zero-length message with
 * a zero-length one):
 *   1. "hello"                         -> "re:hello"
 *   2. 1000 bytes, read back 64 bytes at a time through ERROR_MORE_DATA
 *   3. a zero-length message           -> a zero-length message
 *   4. TransactNamedPipe("ping")       -> "re:ping"
 * It prints "ok MOREDATA" (the number of ReadFile calls that gave
 * ERROR_MORE_DATA) and exits 0; on any failure it prints what went wrong to
 * stderr and exits 1.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o msgclient.exe msgclient.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE h;
static unsigned long moredata;

static int fail(const char *call) {
    fprintf(stderr, "msgclient: %s failed: error %lu\n", call, GetLastError());
    return 1;
}

static int bad(const char *what) {
    fprintf(stderr, "msgclient: %s\n", what);
    return 1;
}

/* readmsg reads one whole message into buf, chunk bytes at a time. */
static int readmsg(char *buf, DWORD size, DWORD chunk, DWORD *len) {
    *len = 0;
    for (;;) {
        DWORD n = 0;
        BOOL ok;
        if (*len + chunk > size)
            return bad("reply too long");
        ok = ReadFile(h, buf + *len, chunk, &n, NULL);
        *len += n;
        if (ok)
            return 0;
        if (GetLastError() != ERROR_MORE_DATA)
            return fail("ReadFile");
        if (n != chunk)
            return bad("ERROR_MORE_DATA with a partly filled buffer");
        moredata++;
    }
}

static int writemsg(const char *buf, DWORD len) {
    DWORD n;
    if (!WriteFile(h, buf, len, &n, NULL))
        return fail("WriteFile");
    if (n != len)
        return bad("short write");
    return 0;
}

int main(int argc, char **argv) {
    static char buf[4096], big[1000];
    DWORD len, mode, i, start;
    ULONG pid = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: msgclient PIPENAME SERVERPID\n");
        return 2;
    }
    start = GetTickCount();
    for (;;) {
        DWORD err;
        h = CreateFileA(argv[1], GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE)
            break;
        err = GetLastError();
        if (GetTickCount() - start > 10000)
            return fail("CreateFile");
        if (err == ERROR_PIPE_BUSY)
            WaitNamedPipeA(argv[1], 1000);
        else if (err == ERROR_FILE_NOT_FOUND)
            Sleep(10);
        else
            return fail("CreateFile");
    }
    mode = PIPE_READMODE_MESSAGE;
    if (!SetNamedPipeHandleState(h, &mode, NULL, NULL))
        return fail("SetNamedPipeHandleState");
    if (!GetNamedPipeServerProcessId(h, &pid))
        return fail("GetNamedPipeServerProcessId");
    if (pid != strtoul(argv[2], NULL, 10)) {
        fprintf(stderr, "msgclient: server PID %lu, want %s\n", pid, argv[2]);
        return 1;
    }

    /* 1 */
    if (writemsg("hello", 5) || readmsg(buf, sizeof buf, sizeof buf, &len))
        return 1;
    if (len != 8 || memcmp(buf, "re:hello", 8) != 0)
        return bad("wrong reply to hello");

    /* 2 */
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)('0' + i % 10);
    if (writemsg(big, sizeof big) || readmsg(buf, sizeof buf, 64, &len))
        return 1;
    if (len != 3 + sizeof big || memcmp(buf, "re:", 3) != 0 || memcmp(buf + 3, big, sizeof big) != 0)
        return bad("wrong reply to the long message");

    /* 3 */
    if (writemsg("", 0) || readmsg(buf, sizeof buf, 16, &len))
        return 1;
    if (len != 0)
        return bad("a zero-length message got a non-empty reply");

    /* 4 */
    if (!TransactNamedPipe(h, "ping", 4, buf, sizeof buf, &len, NULL))
        return fail("TransactNamedPipe");
    if (len != 7 || memcmp(buf, "re:ping", 7) != 0)
        return bad("wrong reply to the transaction");

    if (!CloseHandle(h))
        return fail("CloseHandle");
    printf("ok %lu\n", moredata);
    return 0;
}
