//go:build !darwin

package service

import kservice "github.com/kardianos/service"

// defaultLogDir follows the agent's FHS defaults.
const defaultLogDir = "/var/log/mobileatwork"

// platformConfig keeps kardianos/service's systemd unit: Restart=always,
// stdout and stderr to LogDirectory, run as root, wanted by multi-user.target.
func platformConfig(*kservice.Config, string, []string, string) error { return nil }
