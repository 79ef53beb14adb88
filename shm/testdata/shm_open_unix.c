/*
 * shm_open_unix.c: the C side of package shm's Linux interop test
 * (interop_unix_test.go). It opens the object that shm.Create made the way
 * any C program can, with shm_open of the name that internal/kobj
 * documents and mmap, prints what it finds, and writes a reply.
 *
 *   usage: shm_open_unix SHM-NAME SIZE OFFSET REPLY
 *
 * It checks that the object has SIZE bytes, prints "read TEXT" (the bytes
 * up to the first zero) and "last XX" (the last byte, in hex), and copies
 * REPLY to OFFSET. Exit status 0, or 1 with a message on stderr.
 *
 * scripts/test.sh builds every C file in testdata for Windows with MinGW, which
 * has no shm_open: there this is an empty program.
 */
#ifdef _WIN32
int main(void) { return 0; }
#else
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 5) {
		fprintf(stderr, "usage: %s SHM-NAME SIZE OFFSET REPLY\n", argv[0]);
		return 2;
	}
	const char *name = argv[1], *reply = argv[4];
	long size = atol(argv[2]), off = atol(argv[3]);
	size_t n = strlen(reply);
	if (size <= 0 || off < 0 || (size_t)off + n > (size_t)size) {
		fprintf(stderr, "a %zu-byte reply at %ld does not fit %ld bytes\n", n, off, size);
		return 2;
	}

	int fd = shm_open(name, O_RDWR, 0);
	if (fd < 0) {
		fprintf(stderr, "shm_open %s: %s\n", name, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "fstat: %s\n", strerror(errno));
		return 1;
	}
	if (st.st_size != size) {
		fprintf(stderr, "%s has %lld bytes; want %ld\n", name, (long long)st.st_size, size);
		return 1;
	}
	unsigned char *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap: %s\n", strerror(errno));
		return 1;
	}
	close(fd);

	printf("read %.*s\n", (int)strnlen((const char *)p, (size_t)size), (const char *)p);
	printf("last %02x\n", p[size - 1]);
	memcpy(p + off, reply, n);
	if (munmap(p, (size_t)size) < 0) {
		fprintf(stderr, "munmap: %s\n", strerror(errno));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
#endif
