package essentials365

import (
	"slices"
	"strings"
)

// Feature names a feature of the SDK whose Graph application permissions
// the requirements check verifies.
type Feature string

// The features and the Microsoft Graph application permissions each needs
// (see RequiredPermissions).
const (
	// FeatureAccounts: online accounts (create, update, block, delete,
	// restore), the tenant's organization and its domains (online IDs are
	// checked against them).
	FeatureAccounts Feature = "accounts"
	// FeaturePasswords: password synchronization.
	FeaturePasswords Feature = "passwords"
	// FeatureLicenses: licence assignment.
	FeatureLicenses Feature = "licenses"
	// FeatureDomains: adding and verifying custom domains.
	FeatureDomains Feature = "domains"
	// FeatureSecretRotation: the application rotating its own secret.
	FeatureSecretRotation Feature = "secret-rotation"
)

// Permission is one need of a feature: any of the listed Graph
// application permissions satisfies it (the first is the least
// privileged).
type Permission []string

// RequiredPermissions returns the Graph application permissions feature f
// needs, least privileged first; a broader permission satisfies a narrower
// one (Directory.ReadWrite.All covers users, licences and the
// organization). It returns a new slice on every call.
func RequiredPermissions(f Feature) []Permission {
	return featurePermissions()[f]
}

func featurePermissions() map[Feature][]Permission {
	return map[Feature][]Permission{
		FeatureAccounts: {
			{"User.ReadWrite.All", "Directory.ReadWrite.All"},
			{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
			{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
		},
		FeaturePasswords: {
			{"User-PasswordProfile.ReadWrite.All"},
		},
		FeatureLicenses: {
			{"LicenseAssignment.ReadWrite.All", "Directory.ReadWrite.All"},
		},
		FeatureDomains: {
			{"Domain.ReadWrite.All", "Directory.ReadWrite.All"},
		},
		FeatureSecretRotation: {
			{"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"},
		},
	}
}

// allFeatures is the order features are reported in.
var allFeatures = []Feature{FeatureAccounts, FeaturePasswords, FeatureLicenses, FeatureDomains, FeatureSecretRotation}

// MissingPermissions returns, per feature, the needs that none of roles
// satisfies (each as its least privileged permission). Features with
// nothing missing are left out.
func MissingPermissions(roles []string, features ...Feature) map[Feature][]string {
	have := map[string]bool{}
	for _, r := range roles {
		have[strings.ToLower(r)] = true
	}
	out := map[Feature][]string{}
	table := featurePermissions()
	for _, f := range features {
		for _, p := range table[f] {
			if !slices.ContainsFunc(p, func(r string) bool { return have[strings.ToLower(r)] }) {
				out[f] = append(out[f], p[0])
			}
		}
	}
	return out
}
