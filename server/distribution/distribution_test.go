package distribution

import (
	"errors"
	"reflect"
	"testing"
)

func TestReaches(t *testing.T) {
	ada := Audience{DeviceID: "dev_1", DeviceGroups: []string{"design", "lab"}, User: "ada@example.com", UserGroups: []string{"engineering"}}
	nobody := Audience{DeviceID: "dev_2"}
	tests := []struct {
		name    string
		targets []Target
		a       Audience
		want    bool
	}{
		{"none reaches no one", nil, ada, false},
		{"all reaches everyone", []Target{{Kind: All}}, ada, true},
		{"all reaches a device without user", []Target{{Kind: All}}, nobody, true},
		{"device by id", []Target{{Kind: Device, Value: "dev_1"}}, ada, true},
		{"another device", []Target{{Kind: Device, Value: "dev_2"}}, ada, false},
		{"device group", []Target{{Kind: DeviceGroup, Value: "lab"}}, ada, true},
		{"device group names are exact", []Target{{Kind: DeviceGroup, Value: "Lab"}}, ada, false},
		{"other device group", []Target{{Kind: DeviceGroup, Value: "sales"}}, ada, false},
		{"user by email, any case", []Target{{Kind: User, Value: "ADA@example.com"}}, ada, true},
		{"other user", []Target{{Kind: User, Value: "bob@example.com"}}, ada, false},
		{"user target never reaches a device without user", []Target{{Kind: User, Value: ""}}, nobody, false},
		{"user group", []Target{{Kind: UserGroup, Value: "engineering"}}, ada, true},
		{"other user group", []Target{{Kind: UserGroup, Value: "sales"}}, ada, false},
		{"user group of a device without user", []Target{{Kind: UserGroup, Value: "engineering"}}, nobody, false},
		{"mix: one matching entry is enough", []Target{{Kind: Device, Value: "dev_9"}, {Kind: UserGroup, Value: "engineering"}}, ada, true},
		{"mix: none matching", []Target{{Kind: Device, Value: "dev_9"}, {Kind: User, Value: "bob@example.com"}, {Kind: DeviceGroup, Value: "sales"}}, ada, false},
		{"mix reaches the device named", []Target{{Kind: Device, Value: "dev_2"}, {Kind: User, Value: "ada@example.com"}}, nobody, true},
		{"unknown kind reaches no one", []Target{{Kind: "planet", Value: "earth"}}, ada, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reaches(tt.targets, tt.a); got != tt.want {
				t.Fatalf("Reaches(%v) = %v, want %v", tt.targets, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		words []string
		want  []Target
	}{
		{[]string{"all"}, []Target{{Kind: All}}},
		{[]string{"none"}, nil},
		{[]string{"none", "none"}, nil},
		{[]string{"device:dev_1"}, []Target{{Kind: Device, Value: "dev_1"}}},
		{[]string{"user:Ada@Example.com"}, []Target{{Kind: User, Value: "ada@example.com"}}},
		{[]string{"group:lab,group:design", "usergroup:eng"}, []Target{{Kind: DeviceGroup, Value: "design"}, {Kind: DeviceGroup, Value: "lab"}, {Kind: UserGroup, Value: "eng"}}},
		{[]string{"group:lab", "group:lab"}, []Target{{Kind: DeviceGroup, Value: "lab"}}},
		{[]string{" device:dev_1 , user:bob@example.com "}, []Target{{Kind: Device, Value: "dev_1"}, {Kind: User, Value: "bob@example.com"}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.words)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.words, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, words := range [][]string{
		nil, {""}, {"everyone"}, {"device:"}, {"group"}, {"user:bob"}, {"none,all"}, {"none", "device:d1"},
		{"all", "group:lab"}, {"all,user:a@b.c"}, {"planet:earth"}, {"group:lab,"},
	} {
		if got, err := Parse(words); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", words, got, err)
		}
	}
}

func TestStringAndLevel(t *testing.T) {
	tests := []struct {
		ts          []Target
		text, level string
	}{
		{nil, "none", "none"},
		{[]Target{{Kind: All}}, "all", "all"},
		{[]Target{{Kind: DeviceGroup, Value: "lab"}, {Kind: User, Value: "a@b.c"}}, "group:lab,user:a@b.c", "custom"},
	}
	for _, tt := range tests {
		if got := String(tt.ts); got != tt.text {
			t.Errorf("String(%v) = %q, want %q", tt.ts, got, tt.text)
		}
		if got := Level(tt.ts); got != tt.level {
			t.Errorf("Level(%v) = %q, want %q", tt.ts, got, tt.level)
		}
	}
}
