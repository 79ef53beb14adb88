/*
 * syncpeer: a process that uses named mutexes, events and semaphores
 * through the raw Win32 API only (kernel32), for the interop tests of
 * package syncobj (interop_windows_test.go): whatever it shares with an
 * xipc object, any Win32 program can.
 *
 * Usage: syncpeer.exe
 *
 * It reads commands from stdin, one a line, and answers each with one line
 * on stdout. Names are UTF-8 and are passed to the W functions. It holds
 * at most one mutex, one event and one semaphore handle ("the mutex", ...);
 * a new one replaces the old, which is closed. Every call runs on the main
 * thread, which is the thread that owns the mutex when it does.
 *
 *   mutex NAME           CreateMutex(NULL, FALSE, NAME)
 *                        -> "created" | "existed" (ERROR_ALREADY_EXISTS)
 *   openmutex NAME       OpenMutex(SYNCHRONIZE|MUTEX_MODIFY_STATE) -> "ok"
 *   lock MS              WaitForSingleObject(the mutex, MS)
 *                        -> "ok" | "abandoned" | "timeout"
 *   unlock               ReleaseMutex -> "ok"
 *   event NAME MANUAL ON CreateEvent(NULL, MANUAL, ON, NAME) (0 or 1)
 *                        -> "created" | "existed"
 *   openevent NAME       OpenEvent(SYNCHRONIZE|EVENT_MODIFY_STATE) -> "ok"
 *   set | reset          SetEvent | ResetEvent -> "ok"
 *   waitevent MS         WaitForSingleObject(the event, MS)
 *                        -> "ok" | "timeout"
 *   sem NAME INIT MAX    CreateSemaphore(NULL, INIT, MAX, NAME)
 *                        -> "created" | "existed"
 *   opensem NAME         OpenSemaphore(SYNCHRONIZE|SEMAPHORE_MODIFY_STATE) -> "ok"
 *   release N            ReleaseSemaphore(N) -> "ok PREV"
 *   waitsem MS           WaitForSingleObject(the semaphore, MS)
 *                        -> "ok" | "timeout"
 *   waitall MS           WaitForMultipleObjects({mutex, event}, TRUE, MS)
 *                        -> "ok" | "abandoned" | "timeout"
 *   waitany MS           WaitForMultipleObjects({mutex, event, semaphore},
 *                        FALSE, MS) -> "ok INDEX" | "abandoned INDEX" | "timeout"
 *   close                CloseHandle of all three -> "ok"
 *   exit                 ExitProcess(0) at once, holding whatever it holds
 *                        (no reply)
 *   quit                 exits 0
 *
 * A failing call answers "err CODE" with GetLastError().
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -o syncpeer.exe syncpeer.c
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HANDLE mutex, event, sem;

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

static void replace(HANDLE *slot, HANDLE h) {
    if (*slot)
        CloseHandle(*slot);
    *slot = h;
}

/* created answers a Create call's result and keeps the handle in slot. */
static void created(HANDLE *slot, HANDLE h) {
    if (!h) {
        reply_err();
        return;
    }
    printf(GetLastError() == ERROR_ALREADY_EXISTS ? "existed\n" : "created\n");
    replace(slot, h);
}

static void opened(HANDLE *slot, HANDLE h) {
    if (!h) {
        reply_err();
        return;
    }
    replace(slot, h);
    printf("ok\n");
}

static void waited(DWORD r, DWORD n, int any) {
    if (r < WAIT_OBJECT_0 + n) {
        if (any)
            printf("ok %lu\n", r - WAIT_OBJECT_0);
        else
            printf("ok\n");
    } else if (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + n) {
        if (any)
            printf("abandoned %lu\n", r - WAIT_ABANDONED_0);
        else
            printf("abandoned\n");
    } else if (r == WAIT_TIMEOUT) {
        printf("timeout\n");
    } else {
        reply_err();
    }
}

static void ok(BOOL b) {
    if (b)
        printf("ok\n");
    else
        reply_err();
}

int main(void) {
    char line[4096], name[4096];
    wchar_t *w = NULL;
    setvbuf(stdout, NULL, _IONBF, 0);
    while (fgets(line, sizeof line, stdin)) {
        unsigned long a, b;
        long n;
        line[strcspn(line, "\r\n")] = 0;
        free(w);
        w = NULL;
        if (sscanf(line, "mutex %4095s", name) == 1 && (w = wide(name))) {
            created(&mutex, CreateMutexW(NULL, FALSE, w));
        } else if (sscanf(line, "openmutex %4095s", name) == 1 && (w = wide(name))) {
            opened(&mutex, OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, w));
        } else if (sscanf(line, "lock %lu", &a) == 1) {
            waited(WaitForSingleObject(mutex, a), 1, 0);
        } else if (strcmp(line, "unlock") == 0) {
            ok(ReleaseMutex(mutex));
        } else if (sscanf(line, "event %4095s %lu %lu", name, &a, &b) == 3 && (w = wide(name))) {
            created(&event, CreateEventW(NULL, a != 0, b != 0, w));
        } else if (sscanf(line, "openevent %4095s", name) == 1 && (w = wide(name))) {
            opened(&event, OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, w));
        } else if (strcmp(line, "set") == 0) {
            ok(SetEvent(event));
        } else if (strcmp(line, "reset") == 0) {
            ok(ResetEvent(event));
        } else if (sscanf(line, "waitevent %lu", &a) == 1) {
            waited(WaitForSingleObject(event, a), 1, 0);
        } else if (sscanf(line, "sem %4095s %lu %lu", name, &a, &b) == 3 && (w = wide(name))) {
            created(&sem, CreateSemaphoreW(NULL, (LONG)a, (LONG)b, w));
        } else if (sscanf(line, "opensem %4095s", name) == 1 && (w = wide(name))) {
            opened(&sem, OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, w));
        } else if (sscanf(line, "release %ld", &n) == 1) {
            LONG prev = -1;
            if (ReleaseSemaphore(sem, n, &prev))
                printf("ok %ld\n", prev);
            else
                reply_err();
        } else if (sscanf(line, "waitsem %lu", &a) == 1) {
            waited(WaitForSingleObject(sem, a), 1, 0);
        } else if (sscanf(line, "waitall %lu", &a) == 1) {
            HANDLE hs[2] = {mutex, event};
            waited(WaitForMultipleObjects(2, hs, TRUE, a), 2, 0);
        } else if (sscanf(line, "waitany %lu", &a) == 1) {
            HANDLE hs[3] = {mutex, event, sem};
            waited(WaitForMultipleObjects(3, hs, FALSE, a), 3, 1);
        } else if (strcmp(line, "close") == 0) {
            replace(&mutex, NULL);
            replace(&event, NULL);
            replace(&sem, NULL);
            printf("ok\n");
        } else if (strcmp(line, "exit") == 0) {
            ExitProcess(0);
        } else if (strcmp(line, "quit") == 0) {
            return 0;
        } else {
            printf("bad command %s\n", line);
        }
    }
    return 0;
}
