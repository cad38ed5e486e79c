// Package storetest is the behaviour every store.AllStorage backend must
// have. A backend's tests call Run with a constructor of empty stores; the
// suite is the contract, so a new backend (PostgreSQL, an in-memory fake)
// is done when it passes.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// NewStore returns an empty store for one test and arranges, with
// t.Cleanup, for it to be closed.
type NewStore func(t *testing.T) store.AllStorage

// Run runs the whole suite. Each subtest gets its own empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.AllStorage) {
	t.Run("Tokens", func(t *testing.T) { testTokens(t, newStore) })
	t.Run("TokenList", func(t *testing.T) { testTokenList(t, newStore) })
	t.Run("Devices", func(t *testing.T) { testDevices(t, newStore) })
	t.Run("RetireDevice", func(t *testing.T) { testRetireDevice(t, newStore) })
	t.Run("Scripts", func(t *testing.T) { testScripts(t, newStore) })
	t.Run("ScriptVersions", func(t *testing.T) { testScriptVersions(t, newStore) })
	t.Run("Configurations", func(t *testing.T) { testConfigurations(t, newStore) })
	t.Run("Reach", func(t *testing.T) { testReach(t, newStore) })
	t.Run("Statuses", func(t *testing.T) { testStatuses(t, newStore) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("Results", func(t *testing.T) { testResults(t, newStore) })
	t.Run("Inventory", func(t *testing.T) { testInventory(t, newStore) })
	t.Run("Apps", func(t *testing.T) { testApps(t, newStore) })
	t.Run("AppCatalog", func(t *testing.T) { testAppCatalog(t, newStore) })
	t.Run("Profiles", func(t *testing.T) { testProfiles(t, newStore) })
	t.Run("Onboarding", func(t *testing.T) { testOnboarding(t, newStore) })
	t.Run("Generation", func(t *testing.T) { testGeneration(t, newStore) })
	t.Run("Delivery", func(t *testing.T) { testDelivery(t, newStore) })
	t.Run("KeyEnvelopes", func(t *testing.T) { testKeyEnvelopes(t, newStore) })
	t.Run("LatestResults", func(t *testing.T) { testLatestResults(t, newStore) })
	t.Run("CatalogReach", func(t *testing.T) { testCatalogReach(t, newStore) })
	t.Run("Wakes", func(t *testing.T) { testWakes(t, newStore) })
	t.Run("ConfigurationExpiry", func(t *testing.T) { testConfigurationExpiry(t, newStore) })
	t.Run("Cancellations", func(t *testing.T) { testCancellations(t, newStore) })
	t.Run("ScriptsStops", func(t *testing.T) { testScriptsStops(t, newStore) })
	t.Run("Retries", func(t *testing.T) { testRetries(t, newStore) })
	t.Run("AppPackageUpdate", func(t *testing.T) { testAppPackageUpdate(t, newStore) })
	t.Run("Links", func(t *testing.T) { testLinks(t, newStore) })
	t.Run("TenantValues", func(t *testing.T) { testTenantValues(t, newStore) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, newStore) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, newStore) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("AuditLog", func(t *testing.T) { testAuditLog(t, newStore) })
}

// tick is the finest time step every backend keeps: PostgreSQL's
// timestamptz holds microseconds. A backend may keep finer times (SQLite's
// does, and tests it on its own).
const tick = time.Microsecond

// base is an instant with microseconds in a zone other than UTC, so the
// suite notices a backend that rounds times or loses the instant when it
// converts zones.
var base = time.Date(2026, time.March, 14, 9, 26, 53, 123456000, time.FixedZone("CET", 3600))

func at(d time.Duration) time.Time { return base.Add(d) }

func ctx(t *testing.T) context.Context { return t.Context() }

// utc normalizes a time for comparison with reflect.DeepEqual: backends
// return instants, not the caller's zone or monotonic reading.
func utc(t time.Time) time.Time { return t.UTC() }
