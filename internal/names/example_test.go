package names_test

import (
	"fmt"

	"github.com/xipc/xipc/internal/names"
)

func ExampleParsePipe() {
	for _, s := range []string{`\\.\pipe\Build`, "build", `\\server\PIPE\build`, `bad\name`} {
		p, err := names.ParsePipe(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(p, p.Key(), p.Local())
	}
	// Output:
	// \\.\pipe\Build build true
	// \\.\pipe\build build true
	// \\server\pipe\build build false
	// error: invalid name ("bad\\name": a pipe name may not contain '\' or NUL)
}
