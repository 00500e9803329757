package accountstest_test

import (
	"testing"

	"github.com/essentials365/sdk/accounts/accountstest"
)

func TestFlowsOnMemoryDrivers(t *testing.T) {
	accountstest.RunFlows(t, &accountstest.MemoryDirectory{}, accountstest.MemoryTenant{})
}
