package probe

import "testing"

func TestFolderSaysFreeSpace(t *testing.T) {
	r := Folder(t.TempDir())
	if r.Args["free"] == "" || (r.Code != CodeWritable && r.Code != CodeDiskNearFull) {
		t.Fatalf("folder check %+v: no free space", r)
	}
	for n, want := range map[uint64]string{999: "999 B", 1500: "1.5 kB", 320_000_000: "320.0 MB", 12_400_000_000: "12.4 GB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
