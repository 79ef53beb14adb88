/*
 * win32peer: a process that uses named file mappings through the raw Win32
 * API only (kernel32), for the interop tests of package shm
 * (interop_windows_test.go): whatever it shares with an xipc mapping, any
 * Win32 program can.
 *
 * Usage: win32peer.exe
 *
 * It reads commands from stdin, one a line, and answers each with one line
 * on stdout. Names and paths are UTF-8 and are passed to the W functions.
 * One mapping handle at a time ("the mapping"), with a view of all of it
 * (MapViewOfFile with 0 bytes); SIZE in a reply is that view's size as
 * VirtualQuery reports it (RegionSize: whole pages).
 *
 *   create NAME SIZE   CreateFileMapping(INVALID_HANDLE_VALUE, NULL,
 *                      PAGE_READWRITE, SIZE, NAME)
 *                      -> "created SIZE" | "existed SIZE" (ERROR_ALREADY_EXISTS)
 *   file NAME PATH     CreateFile(PATH) + CreateFileMapping(file, NULL,
 *                      PAGE_READWRITE, 0, NAME), the file closed at once
 *                      (PATH is the rest of the line: it may hold spaces)
 *                      -> "created SIZE" | "existed SIZE"
 *   open NAME rw|ro    OpenFileMapping(FILE_MAP_WRITE|FILE_MAP_READ or
 *                      FILE_MAP_READ, FALSE, NAME) -> "ok SIZE"
 *   write OFF LEN SEED maps a view from OFF rounded down to 64 KiB (the
 *                      allocation granularity) with FILE_MAP_WRITE, writes
 *                      LEN bytes of pattern SEED at OFF, unmaps -> "ok"
 *   check OFF LEN SEED the same with FILE_MAP_READ, comparing
 *                      -> "ok" | "bad AT GOT WANT" (the first difference)
 *   zero OFF LEN       checks that LEN bytes at OFF are 0 -> "ok" | "bad AT GOT 0"
 *   view OFF           MapViewOfFile(FILE_MAP_READ) of 1 byte at OFF, as given
 *                      (not rounded) -> "ok" (then unmapped) | "err CODE"
 *   mutex NAME         CreateMutex(NULL, FALSE, NAME), kept until "unmutex"
 *                      -> "ok" | "existed" | "err CODE"
 *   unmutex            CloseHandle of that mutex -> "ok"
 *   close              UnmapViewOfFile + CloseHandle of the mapping -> "ok"
 *   quit               exits 0 (without closing anything: the system does)
 *
 * A failing call answers "err CODE" with GetLastError(). Byte AT of the
 * object (AT counted from its start) in pattern SEED is
 * (AT*31 + SEED*17 + AT/256) % 251, computed in 64 bits.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o win32peer.exe win32peer.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRANULARITY 65536ULL

static HANDLE mapping;
static unsigned char *whole;
static HANDLE mutex;

static unsigned char pattern(unsigned long long at, unsigned long long seed) {
    return (unsigned char)((at * 31 + seed * 17 + at / 256) % 251);
}

static void reply_err(void) {
    printf("err %lu\n", GetLastError());
}

/* wide converts UTF-8 to a UTF-16 string, or returns NULL. */
static wchar_t *wide(const char *s) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;
    if (n <= 0)
        return NULL;
    w = malloc(n * sizeof(wchar_t));
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

static void close_mapping(void) {
    if (whole)
        UnmapViewOfFile(whole);
    if (mapping)
        CloseHandle(mapping);
    whole = NULL;
    mapping = NULL;
}

/* attach maps all of the mapping and answers WORD SIZE. */
static void attach(HANDLE h, DWORD access, const char *word) {
    MEMORY_BASIC_INFORMATION mbi;
    close_mapping();
    whole = MapViewOfFile(h, access, 0, 0, 0);
    if (!whole) {
        reply_err();
        CloseHandle(h);
        return;
    }
    mapping = h;
    if (!VirtualQuery(whole, &mbi, sizeof mbi)) {
        reply_err();
        return;
    }
    printf("%s %llu\n", word, (unsigned long long)mbi.RegionSize);
}

/* window maps the part of the mapping that holds [off, off+len). */
static unsigned char *window(unsigned long long off, unsigned long long len,
                             DWORD access, unsigned char **base) {
    unsigned long long start = off / GRANULARITY * GRANULARITY;
    *base = MapViewOfFile(mapping, access, (DWORD)(start >> 32), (DWORD)start,
                          (SIZE_T)(off - start + len));
    return *base ? *base + (off - start) : NULL;
}

static void do_write(unsigned long long off, unsigned long long len, unsigned long long seed) {
    unsigned char *base, *p = window(off, len, FILE_MAP_WRITE, &base);
    unsigned long long i;
    if (!p) {
        reply_err();
        return;
    }
    for (i = 0; i < len; i++)
        p[i] = pattern(off + i, seed);
    UnmapViewOfFile(base);
    printf("ok\n");
}

static void do_check(unsigned long long off, unsigned long long len, unsigned long long seed, int zero) {
    unsigned char *base, *p = window(off, len, FILE_MAP_READ, &base);
    unsigned long long i;
    if (!p) {
        reply_err();
        return;
    }
    for (i = 0; i < len; i++) {
        unsigned char want = zero ? 0 : pattern(off + i, seed);
        if (p[i] != want) {
            printf("bad %llu %u %u\n", off + i, p[i], want);
            UnmapViewOfFile(base);
            return;
        }
    }
    UnmapViewOfFile(base);
    printf("ok\n");
}

int main(void) {
    static char line[4096];
    char arg1[2048], arg2[2048];
    unsigned long long a, b, c;
    int rest;

    setvbuf(stdout, NULL, _IONBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        rest = 0;
        if (sscanf(line, "create %2047s %llu", arg1, &a) == 2) {
            wchar_t *name = wide(arg1);
            HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE,
                                          (DWORD)(a >> 32), (DWORD)a, name);
            DWORD e = GetLastError();
            free(name);
            if (!h)
                printf("err %lu\n", e);
            else
                attach(h, FILE_MAP_ALL_ACCESS, e == ERROR_ALREADY_EXISTS ? "existed" : "created");
        } else if (sscanf(line, "file %2047s %n", arg1, &rest) == 1 && rest > 0 && line[rest]) {
            wchar_t *name = wide(arg1), *path = wide(line + rest);
            HANDLE f = CreateFileW(path, GENERIC_READ | GENERIC_WRITE,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
            DWORD e = GetLastError();
            free(path);
            if (f == INVALID_HANDLE_VALUE) {
                printf("err %lu\n", e);
                free(name);
                continue;
            }
            HANDLE h = CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, name);
            e = GetLastError();
            free(name);
            CloseHandle(f); /* the mapping keeps the file */
            if (!h)
                printf("err %lu\n", e);
            else
                attach(h, FILE_MAP_ALL_ACCESS, e == ERROR_ALREADY_EXISTS ? "existed" : "created");
        } else if (sscanf(line, "open %2047s %2047s", arg1, arg2) == 2) {
            wchar_t *name = wide(arg1);
            DWORD access = strcmp(arg2, "rw") == 0 ? FILE_MAP_WRITE | FILE_MAP_READ : FILE_MAP_READ;
            HANDLE h = OpenFileMappingW(access, FALSE, name);
            DWORD e = GetLastError();
            free(name);
            if (!h)
                printf("err %lu\n", e);
            else
                attach(h, access, "ok");
        } else if (sscanf(line, "write %llu %llu %llu", &a, &b, &c) == 3) {
            do_write(a, b, c);
        } else if (sscanf(line, "check %llu %llu %llu", &a, &b, &c) == 3) {
            do_check(a, b, c, 0);
        } else if (sscanf(line, "zero %llu %llu", &a, &b) == 2) {
            do_check(a, b, 0, 1);
        } else if (sscanf(line, "view %llu", &a) == 1) {
            void *p = MapViewOfFile(mapping, FILE_MAP_READ, (DWORD)(a >> 32), (DWORD)a, 1);
            if (!p) {
                reply_err();
            } else {
                UnmapViewOfFile(p);
                printf("ok\n");
            }
        } else if (sscanf(line, "mutex %2047s", arg1) == 1) {
            wchar_t *name = wide(arg1);
            HANDLE h = CreateMutexW(NULL, FALSE, name);
            DWORD e = GetLastError();
            free(name);
            if (!h) {
                printf("err %lu\n", e);
            } else {
                if (mutex)
                    CloseHandle(mutex);
                mutex = h;
                printf(e == ERROR_ALREADY_EXISTS ? "existed\n" : "ok\n");
            }
        } else if (strcmp(line, "unmutex") == 0) {
            if (mutex)
                CloseHandle(mutex);
            mutex = NULL;
            printf("ok\n");
        } else if (strcmp(line, "close") == 0) {
            close_mapping();
            printf("ok\n");
        } else if (strcmp(line, "quit") == 0) {
            return 0;
        } else {
            printf("unknown command: %s\n", line);
        }
    }
    return 0;
}
