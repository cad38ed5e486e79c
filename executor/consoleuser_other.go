//go:build !linux && !darwin

package executor

func consoleUser() (User, error) { return User{}, ErrNoConsoleUser }
