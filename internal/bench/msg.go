package bench

// msgCases are the cases of the window message queues (package msgq).
// Not available yet: the msg mechanism has not landed.
func (r *runner) msgCases() []*benchCase { return nil }
