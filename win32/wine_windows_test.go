package win32_test

import "github.com/xipc/xipc/internal/wintest"

// underWine reports whether the tests run under Wine, whose mailslots
// and parameter checks differ from Windows' (see docs/win32.md).
func underWine() bool { return wintest.UnderWine() }
