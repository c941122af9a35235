package outbox

import "github.com/porxgate/porxgate/gateway/store"

// Head returns what a listing of the dead letters shows of dl, to keep
// beside it (store.Finish.DeadLetterHead): dl encoded as Encode does,
// without the message (Body) and the queue entry that holds it again,
// which may be megabytes each. DecodeDeadLetter reads it.
func (dl DeadLetter) Head() []byte {
	dl.Body, dl.Entry = nil, nil
	return dl.Encode()
}

// Finish is the store step that moves a leased item to the dead letters
// as dl, with its head for listings.
func (dl DeadLetter) Finish() store.Finish {
	return store.Finish{DeadLetter: dl.Encode(), DeadLetterHead: dl.Head()}
}
