package systemtest

import (
	"testing"

	"github.com/kycgate/kycgate/infra/local/emulator"
)

func TestMain(m *testing.M) { emulator.Main(m) }
