/*
 * msgserver: a message-mode named pipe server written against the raw Win32
 * API, for the interop tests of package pipe (interop_windows_test.go).
 *
 * Usage: msgserver.exe PIPENAME
 *
 * Creates PIPENAME (PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, one
 * instance), prints "ready", waits for one client and answers each message
 * until the client goes away:
 *   "pid"        -> the client's PID (GetNamedPipeClientProcessId), in decimal
 *   "big N"      -> a message of N bytes, byte i = 'a' + i % 26
 *   ""           -> a zero-length message
 *   anything else is echoed.
 * Messages are read 16 bytes at a time, so that any longer one goes through
 * the ERROR_MORE_DATA loop. At the end it prints "bye MESSAGES MOREDATA" (the
 * number of messages and of ReadFile calls that gave ERROR_MORE_DATA) and
 * exits 0; on any failure it prints the call and GetLastError() to stderr
 * and exits 1.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o msgserver.exe msgserver.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *call) {
    fprintf(stderr, "msgserver: %s failed: error %lu\n", call, GetLastError());
    return 1;
}

int main(int argc, char **argv) {
    static char msg[1 << 20], reply[1 << 20];
    HANDLE h;
    unsigned long messages = 0, moredata = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: msgserver PIPENAME\n");
        return 2;
    }
    h = CreateNamedPipeA(argv[1], PIPE_ACCESS_DUPLEX,
                         PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                         1, 4096, 4096, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail("CreateNamedPipe");
    printf("ready\n");
    fflush(stdout);
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return fail("ConnectNamedPipe");

    for (;;) {
        DWORD len = 0, n, rlen;
        for (;;) {
            char chunk[16];
            BOOL ok = ReadFile(h, chunk, sizeof chunk, &n, NULL);
            DWORD err = ok ? 0 : GetLastError();
            if (!ok && err == ERROR_BROKEN_PIPE) {
                if (len != 0) {
                    fprintf(stderr, "msgserver: client left in the middle of a message\n");
                    return 1;
                }
                printf("bye %lu %lu\n", messages, moredata);
                return 0;
            }
            if (!ok && err != ERROR_MORE_DATA)
                return fail("ReadFile");
            if (len + n > sizeof msg) {
                fprintf(stderr, "msgserver: message too long\n");
                return 1;
            }
            memcpy(msg + len, chunk, n);
            len += n;
            if (ok)
                break;
            moredata++;
        }
        messages++;

        if (len == 3 && memcmp(msg, "pid", 3) == 0) {
            ULONG pid = 0;
            if (!GetNamedPipeClientProcessId(h, &pid))
                return fail("GetNamedPipeClientProcessId");
            rlen = (DWORD)sprintf(reply, "%lu", pid);
        } else if (len > 4 && memcmp(msg, "big ", 4) == 0) {
            DWORD i;
            msg[len] = 0;
            rlen = (DWORD)strtoul(msg + 4, NULL, 10);
            if (rlen > sizeof reply)
                rlen = sizeof reply;
            for (i = 0; i < rlen; i++)
                reply[i] = (char)('a' + i % 26);
        } else {
            memcpy(reply, msg, len);
            rlen = len;
        }
        if (!WriteFile(h, reply, rlen, &n, NULL))
            return fail("WriteFile");
        if (n != rlen) {
            fprintf(stderr, "msgserver: short write %lu of %lu\n", n, rlen);
            return 1;
        }
    }
}
