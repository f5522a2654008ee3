package vigil

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AssetType is the kind of an asset (DESIGN.md vocabulary).
type AssetType string

// The asset types.
const (
	AssetInformation AssetType = "information"
	AssetSoftware    AssetType = "software"
	AssetHardware    AssetType = "hardware"
	AssetService     AssetType = "service"
	AssetPeople      AssetType = "people"
	AssetSite        AssetType = "site"
)

// AssetTypes lists every asset type.
var AssetTypes = []AssetType{AssetInformation, AssetSoftware, AssetHardware, AssetService, AssetPeople, AssetSite}

// Classification is the information classification of an asset.
type Classification string

// The classification levels, least sensitive first.
const (
	ClassPublic       Classification = "public"
	ClassInternal     Classification = "internal"
	ClassConfidential Classification = "confidential"
	ClassRestricted   Classification = "restricted"
)

// Classifications lists every classification, least sensitive first.
var Classifications = []Classification{ClassPublic, ClassInternal, ClassConfidential, ClassRestricted}

// RatingLabels names the levels of a confidentiality, integrity or
// availability rating: level n is RatingLabels[n-1].
var RatingLabels = []string{"low", "medium", "high"}

// MaxRating is the highest CIA rating.
var MaxRating = len(RatingLabels)

// Asset is anything of value in the ISMS scope. CIA ratings are nil while
// not rated.
type Asset struct {
	ID              string         `json:"id"`
	Ref             string         `json:"ref"`
	Name            string         `json:"name"`
	Type            AssetType      `json:"type"`
	Owner           string         `json:"owner"`
	Classification  Classification `json:"classification"`
	Confidentiality *int           `json:"confidentiality"`
	Integrity       *int           `json:"integrity"`
	Availability    *int           `json:"availability"`
	Location        string         `json:"location"`
	Description     string         `json:"description"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

// AssetInput is a new asset, or the full state of one after an update.
// Owner is a member's user id or email.
type AssetInput struct {
	Name            string         `json:"name"`
	Type            AssetType      `json:"type"`
	Owner           string         `json:"owner"`
	Classification  Classification `json:"classification"`
	Confidentiality *int           `json:"confidentiality"`
	Integrity       *int           `json:"integrity"`
	Availability    *int           `json:"availability"`
	Location        string         `json:"location"`
	Description     string         `json:"description"`
}

// AssetUpdate changes an asset; nil fields stay as they are. A rating of 0
// clears it.
type AssetUpdate struct {
	Name            *string         `json:"name"`
	Type            *AssetType      `json:"type"`
	Owner           *string         `json:"owner"`
	Classification  *Classification `json:"classification"`
	Confidentiality *int            `json:"confidentiality"`
	Integrity       *int            `json:"integrity"`
	Availability    *int            `json:"availability"`
	Location        *string         `json:"location"`
	Description     *string         `json:"description"`
}

// Input returns the asset as the input that would recreate it.
func (a Asset) Input() AssetInput {
	return AssetInput{Name: a.Name, Type: a.Type, Owner: a.Owner, Classification: a.Classification,
		Confidentiality: a.Confidentiality, Integrity: a.Integrity, Availability: a.Availability,
		Location: a.Location, Description: a.Description}
}

// Apply returns in with the fields of u that are set.
func (u AssetUpdate) Apply(in AssetInput) AssetInput {
	arSetStr(&in.Name, u.Name)
	if u.Type != nil {
		in.Type = *u.Type
	}
	arSetStr(&in.Owner, u.Owner)
	if u.Classification != nil {
		in.Classification = *u.Classification
	}
	arSetInt(&in.Confidentiality, u.Confidentiality)
	arSetInt(&in.Integrity, u.Integrity)
	arSetInt(&in.Availability, u.Availability)
	arSetStr(&in.Location, u.Location)
	arSetStr(&in.Description, u.Description)
	return in
}

func arSetStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// arSetInt sets an optional number; 0 clears it.
func arSetInt(dst **int, v *int) {
	if v == nil {
		return
	}
	if *v == 0 {
		*dst = nil
		return
	}
	n := *v
	*dst = &n
}

// Normalize trims the input and reports every bad field.
func (in *AssetInput) Normalize() []FieldError {
	var errs []FieldError
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		errs = append(errs, FieldError{"name", "must not be empty"})
	case utf8.RuneCountInString(in.Name) > 200:
		errs = append(errs, FieldError{"name", "must be at most 200 characters"})
	}
	in.Type = AssetType(strings.ToLower(strings.TrimSpace(string(in.Type))))
	if !slices.Contains(AssetTypes, in.Type) {
		errs = append(errs, FieldError{"type", "must be one of " + arJoinEnum(AssetTypes)})
	}
	in.Owner = strings.TrimSpace(in.Owner)
	in.Classification = Classification(strings.ToLower(strings.TrimSpace(string(in.Classification))))
	if in.Classification != "" && !slices.Contains(Classifications, in.Classification) {
		errs = append(errs, FieldError{"classification", "must be one of " + arJoinEnum(Classifications)})
	}
	for _, r := range []struct {
		field string
		v     **int
	}{{"confidentiality", &in.Confidentiality}, {"integrity", &in.Integrity}, {"availability", &in.Availability}} {
		if *r.v != nil && **r.v == 0 {
			*r.v = nil
		}
		if *r.v != nil && (**r.v < 1 || **r.v > MaxRating) {
			errs = append(errs, FieldError{r.field, "must be from 1 to " + strconv.Itoa(MaxRating) + " (" + strings.Join(RatingLabels, ", ") + ")"})
		}
	}
	in.Location = strings.TrimSpace(in.Location)
	errs = arCheckLen(errs, "location", in.Location, 200)
	in.Description = strings.TrimSpace(in.Description)
	errs = arCheckLen(errs, "description", in.Description, 10000)
	return errs
}

func arCheckLen(errs []FieldError, field, v string, limit int) []FieldError {
	if utf8.RuneCountInString(v) > limit {
		errs = append(errs, FieldError{field, "must be at most " + strconv.Itoa(limit) + " characters"})
	}
	return errs
}

// ParseRating reads a CIA rating given as a number or a label ("high");
// empty means not rated (nil).
func ParseRating(s string) (*int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return nil, nil
	}
	if i := slices.Index(RatingLabels, s); i >= 0 {
		n := i + 1
		return &n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxRating {
		return nil, Errorf(EInvalid, "must be from 1 to %d or one of %s", MaxRating, strings.Join(RatingLabels, ", "))
	}
	return &n, nil
}

// RatingLabel names a rating ("" when not rated).
func RatingLabel(v *int) string {
	if v == nil || *v < 1 || *v > len(RatingLabels) {
		return ""
	}
	return RatingLabels[*v-1]
}

// InvalidFields turns a list of bad fields into one EInvalid error (nil for
// none), so a caller learns about every problem at once.
func InvalidFields(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Field + ": " + f.Message
	}
	return &Error{Code: EInvalid, Message: strings.Join(msgs, "; "), Fields: fields}
}

func arJoinEnum[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ParseRefNumber returns n for a short reference "KIND-n" of the given kind
// (case-insensitive), or 0 when s is not one.
func ParseRefNumber(kind, s string) int {
	s = strings.TrimSpace(s)
	if len(s) <= len(kind)+1 || !strings.EqualFold(s[:len(kind)], kind) || s[len(kind)] != '-' {
		return 0
	}
	n, err := strconv.Atoi(s[len(kind)+1:])
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// CompareShortRefs orders short references of one kind by number, so that
// RSK-2 comes before RSK-10.
func CompareShortRefs(a, b string) int {
	ka, na, _ := strings.Cut(a, "-")
	kb, nb, _ := strings.Cut(b, "-")
	if c := strings.Compare(ka, kb); c != 0 {
		return c
	}
	x, errA := strconv.Atoi(na)
	y, errB := strconv.Atoi(nb)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return x - y
}

// AssetExportColumns are the columns of an exported asset register; a
// file exported this way can be imported again (ref is then ignored).
var AssetExportColumns = []string{"ref", "name", "type", "owner_email", "classification", "confidentiality", "integrity", "availability", "location", "description"}

// AssetExportRows renders assets as table rows; person gives the email of
// a user id.
func AssetExportRows(assets []Asset, person func(id string) string) [][]string {
	out := make([][]string, len(assets))
	for i, a := range assets {
		out[i] = []string{a.Ref, a.Name, string(a.Type), person(a.Owner), string(a.Classification),
			arIntText(a.Confidentiality), arIntText(a.Integrity), arIntText(a.Availability), a.Location, a.Description}
	}
	return out
}

// arIntText renders an optional number ("" for nil).
func arIntText(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}
