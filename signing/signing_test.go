package signing

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "k", DefaultFile)
	if _, err := LoadOrCreate(path, false); err == nil {
		t.Fatal("missing key without create: want an error")
	}
	key, err := LoadOrCreate(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode(), err)
	}
	again, err := LoadOrCreate(path, true)
	if err != nil || !again.Equal(key) {
		t.Fatalf("second load gave another key (err %v)", err)
	}
	pemBytes, err := PublicPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "pub.pem")
	os.WriteFile(pubPath, pemBytes, 0o644)
	pub, err := ReadPublic(pubPath)
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("ReadPublic = %v, %v", pub, err)
	}
	if _, err := ReadPublic(path); err == nil {
		t.Fatal("a private key file read as a public key")
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("junk"), 0o600)
	if _, err := LoadOrCreate(filepath.Join(dir, "junk"), true); err == nil {
		t.Fatal("junk accepted as a key")
	}
}
