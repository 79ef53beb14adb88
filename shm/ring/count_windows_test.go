package ring_test

// fullStream is TestStream's message count without -short: a million on
// Windows, where the tests run under Wine, whose event wake-ups go through
// the wineserver and cost tens of microseconds.
const fullStream = 1_000_000
