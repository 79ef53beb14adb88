/*
 * msserver: a mailslot server written against the raw Win32 API, for the
 * interop tests of package mailslot (interop_windows_test.go).
 *
 * Usage: msserver.exe SLOTNAME COUNT
 *
 * Creates SLOTNAME with CreateMailslot (any message size, read timeout
 * MAILSLOT_WAIT_FOREVER), prints "ready", and then reads COUNT messages.
 * Before each read it waits until GetMailslotInfo reports a next message and
 * reads it, checking that ReadFile returns the size GetMailslotInfo gave. It prints each message as
 *   msg LEN TEXT        when it is at most 200 printable bytes
 *   msg LEN sum=SUM     otherwise (SUM: the bytes' sum, unsigned 32-bit)
 * and then "bye" and exits 0, which closes the slot. On any failure it prints
 * what went wrong to stderr and exits 1; without a message for 30 s, too.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o msserver.exe msserver.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *call) {
    fprintf(stderr, "msserver: %s failed: error %lu\n", call, GetLastError());
    return 1;
}

int main(int argc, char **argv) {
    HANDLE h;
    long count, i;

    if (argc != 3) {
        fprintf(stderr, "usage: msserver SLOTNAME COUNT\n");
        return 2;
    }
    count = atol(argv[2]);
    h = CreateMailslotA(argv[1], 0, MAILSLOT_WAIT_FOREVER, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail("CreateMailslot");
    printf("ready\n");
    fflush(stdout);

    for (i = 0; i < count; i++) {
        DWORD next = MAILSLOT_NO_MESSAGE, waiting = 0, n = 0, k, printable;
        DWORD start = GetTickCount();
        unsigned long sum = 0;
        char *buf;

        for (;;) {
            if (!GetMailslotInfo(h, NULL, &next, &waiting, NULL))
                return fail("GetMailslotInfo");
            if (next != MAILSLOT_NO_MESSAGE)
                break;
            if (GetTickCount() - start > 30000) {
                fprintf(stderr, "msserver: no message %ld after 30 s\n", i + 1);
                return 1;
            }
            Sleep(2);
        }
        buf = malloc(next + 1);
        if (!buf) {
            fprintf(stderr, "msserver: out of memory\n");
            return 1;
        }
        /* One byte more than needed: Wine 8 leaves a zero-length message
         * in the slot when the buffer is empty too. */
        if (!ReadFile(h, buf, next + 1, &n, NULL)) {
            /* Wine 8 reads a zero-length message as ERROR_BROKEN_PIPE
             * (and consumes it); Windows returns it with 0 bytes. */
            if (!(next == 0 && GetLastError() == ERROR_BROKEN_PIPE))
                return fail("ReadFile");
            n = 0;
        }
        if (n != next) {
            fprintf(stderr, "msserver: GetMailslotInfo said %lu bytes, ReadFile gave %lu\n", next, n);
            return 1;
        }
        printable = n <= 200;
        for (k = 0; k < n; k++) {
            sum += (unsigned char)buf[k];
            if (buf[k] < 32 || buf[k] > 126)
                printable = 0;
        }
        buf[n] = 0;
        if (printable)
            printf("msg %lu %s\n", n, buf);
        else
            printf("msg %lu sum=%lu\n", n, sum & 0xffffffffUL);
        fflush(stdout);
        free(buf);
    }
    printf("bye\n");
    fflush(stdout);
    CloseHandle(h);
    return 0;
}
