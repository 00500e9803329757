package dnsrecords

// Warnings shared by several records.
const (
	warnMigration = "If you are migrating mail to Microsoft 365, do not give this MX preference 0 yet: " +
		"keep its number higher than the MX of the server that receives your mail today. " +
		"When the migration is over, set it to 0 and remove the old MX."
	warnVerificationMX = "This MX proves ownership only; it does not route mail. Its preference must stay higher " +
		"than the MX that routes mail. Microsoft does not document the value 32767; use the value shown in the admin center, " +
		"and delete the record once the domain is verified."
	warnAfterVerification = "Once the domain is verified, do not change the DNS records from the Microsoft 365 portal."
	warnDerivedMX         = "The host name was derived from the domain name and is unverified: copy the exact value from the " +
		"Microsoft 365 admin center (Settings > Domains) or from Graph before publishing it."
	warnHyphenMX = "The domain contains a hyphen: Microsoft removes it and adds a suffix to the host name " +
		"(for example domainwithdash-com01e), which cannot be guessed offline. The value shown here is incomplete."
	warnDerivedDKIM = "The target was derived from the domain name and is unverified: read the real values with " +
		"Get-DkimSigningConfig | fl Selector1CNAME,Selector2CNAME in Exchange Online PowerShell."
	warnPlaceholder = "msXXXXXXXX is a placeholder: replace it with the token shown in the admin center for this domain."
	warnCNAMEProxy  = "If your DNS host can proxy records (Cloudflare's orange cloud), set this CNAME to DNS only."
	warnDMARCStart  = "Start with p=none and reports, read them for a few weeks, then move to p=quarantine and finally p=reject."
	warnSPFOne      = "A domain must publish exactly one SPF record: merge this include into the SPF record you already have " +
		"instead of adding a second one."
	warnEnrollment = "The target without -s (enterpriseenrollment.manage.microsoft.com) also works; the -s target is the one " +
		"Microsoft prefers."
	warnMSOID = "Do not add an msoid CNAME: it is only for Microsoft 365 operated by 21Vianet and breaks activation " +
		"in the worldwide cloud."
)

// explain returns the explanation for a record role.
func explain(role Role) Explanation {
	switch role {
	case RoleVerificationTXT:
		return Explanation{
			Purpose:   "Proves to Microsoft 365 that you own the domain. It has no effect on mail or other services.",
			WithoutIt: "Microsoft 365 cannot verify the domain, so no user, mailbox or service can use it.",
			Warnings:  []string{warnAfterVerification},
		}
	case RoleVerificationMX:
		return Explanation{
			Purpose:   "Alternative proof of ownership, for DNS hosts that cannot publish TXT records. It does not route mail.",
			WithoutIt: "Nothing, if the TXT verification record is published instead.",
			Warnings:  []string{warnVerificationMX},
		}
	case RoleMX:
		return Explanation{
			Purpose:   "Routes mail sent to addresses in the domain to Exchange Online.",
			WithoutIt: "Mail for the domain does not reach Microsoft 365 mailboxes: it bounces or goes to whichever server the other MX records name.",
			Warnings:  []string{warnMigration},
		}
	case RoleAutodiscover:
		return Explanation{
			Purpose:   "Lets Outlook and mobile mail apps find the Exchange Online settings from the user's address alone.",
			WithoutIt: "Outlook cannot set up the mailbox automatically; users must enter server settings by hand, and some clients fail.",
			Warnings:  []string{warnCNAMEProxy},
		}
	case RoleSPF:
		return Explanation{
			Purpose:   "Authorises Exchange Online's servers (spf.protection.outlook.com) to send mail for the domain.",
			WithoutIt: "Receivers may mark outgoing mail as spam or reject it, and DMARC fails for mail that is not DKIM-signed.",
			Warnings:  []string{warnSPFOne},
		}
	case RoleOWA:
		return Explanation{
			Purpose:   "Optional alias so that users can reach Outlook on the web as mail.<your domain> instead of Microsoft's address (the Essentials-era mail.office365.com alias).",
			WithoutIt: "Nothing breaks: users reach Outlook on the web at outlook.office.com.",
		}
	case RoleSIPFederation:
		return Explanation{
			Purpose:   "Lets users in other organisations find your users in Teams (federation) and chat or call with them.",
			WithoutIt: "External users cannot find or reach your users over Teams or Skype federation.",
		}
	case RoleSIPTLS:
		return Explanation{
			Purpose:   "Lets legacy Skype for Business clients find the sign-in service automatically.",
			WithoutIt: "Only legacy Skype for Business clients are affected: they cannot sign in without manual settings. Teams does not use it.",
		}
	case RoleSIP:
		return Explanation{
			Purpose:   "Legacy Skype for Business client discovery.",
			WithoutIt: "Only legacy Skype for Business clients are affected. Teams does not use it.",
			Warnings:  []string{warnCNAMEProxy},
		}
	case RoleLyncdiscover:
		return Explanation{
			Purpose:   "Legacy Skype for Business discovery for mobile and desktop clients.",
			WithoutIt: "Only legacy Skype for Business clients are affected. Teams does not use it.",
			Warnings:  []string{warnCNAMEProxy},
		}
	case RoleEnrollment:
		return Explanation{
			Purpose:   "Lets Windows devices find the Intune enrollment service when a user signs in with an address of the domain.",
			WithoutIt: "Users must type the enrollment server address by hand when enrolling Windows devices in Intune.",
			Warnings:  []string{warnEnrollment, warnCNAMEProxy},
		}
	case RoleRegistration:
		return Explanation{
			Purpose:   "Lets devices find the Microsoft Entra device registration service for the domain.",
			WithoutIt: "Device registration (workplace join) with an address of the domain needs manual settings or fails.",
			Warnings:  []string{warnCNAMEProxy},
		}
	case RoleDKIM1, RoleDKIM2:
		return Explanation{
			Purpose:   "Publishes, through Microsoft's DNS, the public key receivers use to check the DKIM signature Exchange Online puts on outgoing mail. Microsoft rotates between the two selectors.",
			WithoutIt: "DKIM signing for the domain cannot be turned on; outgoing mail is signed for the onmicrosoft.com domain only, so DMARC relies on SPF alone.",
			Warnings:  []string{warnCNAMEProxy},
		}
	case RoleDMARC:
		return Explanation{
			Purpose:   "Tells receivers what to do with mail that claims to come from the domain but fails SPF and DKIM, and where to send reports.",
			WithoutIt: "Anyone can spoof the domain with less risk of rejection, and you receive no reports about mail sent in its name.",
			Warnings:  []string{warnDMARCStart},
		}
	}
	return Explanation{
		Purpose:   "A record Microsoft 365 lists for this domain.",
		WithoutIt: "The service that asked for it may not work for the domain.",
	}
}
