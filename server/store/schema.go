package store

import "errors"

// ErrNoSchema is a backend's answer when the database it was pointed at
// holds no tenant schema and was not told to create one: the database was
// lost or not restored, and serving it would start an empty tenant.
var ErrNoSchema = errors.New("the database holds no Mobile@Work schema")
