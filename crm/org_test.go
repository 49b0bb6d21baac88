package crm_test

import (
	"testing"

	"github.com/leadpipe/leadpipe/crm"
)

func TestNormalizeOrgName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// the SPEC §7 examples all give "acme"
		{"Acme, Inc.", "acme"},
		{"ACME inc", "acme"},
		{"acme", "acme"},
		{"acme inc", "acme"},
		{"acme  inc", "acme"},
		{" acme inc", "acme"},
		{"acme inc ", "acme"},
		{"the company", "the company"},
		{"acme widgets 2", "acme widgets 2"},
		{"Acme Corp.", "acme"},
		{"  Acme   Incorporated ", "acme"},
		{"Acme L.L.C.", "acme"},
		{"Acme LLC", "acme"},
		{"Acme,Inc", "acme"},
		{"Acme-Inc", "acme"},
		{"Acme Ltd", "acme"},
		{"Acme Limited", "acme"},
		{"Acme GmbH", "acme"},
		{"Acme Corporation", "acme"},
		{"Acme Co.", "acme"},
		{"Acme Company", "acme"},
		{"Acme PLC", "acme"},
		{"Acme S.A.", "acme"},
		{"Acme AG", "acme"},
		{"Acme B.V.", "acme"},
		{"Acme N.V.", "acme"},
		{"Acme Pvt", "acme"},
		{"Acme S.R.L.", "acme"},
		{"Acme SARL", "acme"},
		{"Acme Oy", "acme"},
		{"Acme AB", "acme"},
		{"Acme AS", "acme"},
		{"Acme KG", "acme"},
		{"Acme L.P.", "acme"},
		{"Acme LLP", "acme"},
		{"Acme P.C.", "acme"},
		// stacked legal suffixes
		{"Acme Pty Ltd", "acme"},
		{"Acme Pty. Ltd.", "acme"},
		{"Samsung Co., Ltd.", "samsung"},
		{"Acme GmbH & Co. KG", "acme"},
		// a suffix is only stripped after a word other than an article
		{"The Company", "the company"},
		{"The Co", "the co"},
		{"A Company", "a company"},
		{"The Acme Company", "the acme"},
		{"The Co Ltd", "the co"},
		{"Company", "company"},
		{"Inc", "inc"},
		{"Inc.", "inc"},
		{"LLC Ltd", "llc"},
		// a suffix is a whole trailing word only
		{"Acme Inco", "acme inco"},
		{"Coca-Cola", "coca cola"},
		{"Inc Acme", "inc acme"},
		{"Acme Inc Widgets", "acme inc widgets"},
		// punctuation, whitespace and case
		{"AT&T", "att"},
		{"AT&T Inc.", "att"},
		{"O'Reilly Media, Inc.", "oreilly media"},
		{"Hewlett-Packard", "hewlett packard"},
		{"Hewlett Packard", "hewlett packard"},
		{"Acme (UK) Ltd", "acme uk"},
		{"Acme/Widgets", "acme widgets"},
		{"Acme\tWidgets\n", "acme widgets"},
		{"Acme — Widgets", "acme widgets"},
		{"Acme\u00a0Widgets", "acme widgets"},
		{"Yahoo!", "yahoo"},
		{"3M", "3m"},
		{"", ""},
		{"   ", ""},
		{"!!!", ""},
		{"- & -", ""},
		// any script
		{"Société Générale S.A.", "société générale"},
		{"SOCIÉTÉ GÉNÉRALE", "société générale"},
		{"Müller GmbH", "müller"},
		{"Société\u0301", "société\u0301"}, // combining marks are kept
		{"株式会社トヨタ", "株式会社トヨタ"},
		{"Яндекс ООО", "яндекс ооо"},
		{"टाटा मोटर्स", "टाटा मोटर्स"},
	}
	for _, tt := range tests {
		if got := crm.NormalizeOrgName(tt.in); got != tt.want {
			t.Errorf("NormalizeOrgName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWebsiteDomain(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://www.Acme.com/about", "acme.com"},
		{"acme.com", "acme.com"},
		{"www.acme.co.uk:8080", "acme.co.uk"},
		{"  http://acme.com  ", "acme.com"},
		{"HTTP://WWW.ACME.COM", "acme.com"},
		{"https://acme.com?ref=x", "acme.com"},
		{"https://acme.com#top", "acme.com"},
		{"acme.com/path/to?q=1#f", "acme.com"},
		{"https://shop.acme.com/", "shop.acme.com"},
		{"https://user:pass@www.acme.com:443/x", "acme.com"},
		{"//www.acme.com/x", "acme.com"},
		{"ftp://files.acme.com", "files.acme.com"},
		{"acme.com.", "acme.com"},
		{"www.com", "www.com"},
		{"www.www.acme.com", "www.acme.com"}, // only one "www." goes
		{"www2.acme.com", "www2.acme.com"},
		{"xn--mnchen-3ya.de", "xn--mnchen-3ya.de"},
		{"", ""},
		{"   ", ""},
		{"acme", ""},
		{"http://localhost:8080", ""},
		{"https://", ""},
		{"http://192.168.0.1/", ""},
		{"http://[::1]:80/", ""},
		{"acme .com", ""},
		{"acme..com", ""},
		{"-acme.com", ""},
		{"acme.c", ""},
		{"acme.c0m", ""},
		{"münchen.de", ""},
		{"n/a", ""},
		{"none", ""},
	}
	for _, tt := range tests {
		if got := crm.WebsiteDomain(tt.in); got != tt.want {
			t.Errorf("WebsiteDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmailDomain(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"john@Acme.COM", "acme.com"},
		{"john@sub.acme.co.uk", "sub.acme.co.uk"},
		{" john@acme.com ", "acme.com"},
		{"", ""},
		{"john", ""},
		{"john@", ""},
		{"john@acme", ""},
		{"john@acme..com", ""},
		{"john@acme.com.", ""},
	}
	for _, tt := range tests {
		if got := crm.EmailDomain(tt.in); got != tt.want {
			t.Errorf("EmailDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsFreeMail(t *testing.T) {
	free := []string{
		"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.co.jp",
		"hotmail.com", "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com",
		"aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me",
		"gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.ru", "yandex.com",
		"zoho.com", "qq.com", "163.com", "126.com", "comcast.net", "hey.com", "fastmail.com",
		"tutanota.com", "mail.ru", "GMAIL.COM", "Yahoo.Com",
	}
	for _, d := range free {
		if !crm.IsFreeMail(d) {
			t.Errorf("IsFreeMail(%q) = false, want true", d)
		}
	}
	notFree := []string{
		"", "acme.com", "google.com", "yahoo.net", "mail.google.com", "sub.gmail.com",
		"gmail.co", "microsoft.com", "gmail.com.", "notgmail.com",
	}
	for _, d := range notFree {
		if crm.IsFreeMail(d) {
			t.Errorf("IsFreeMail(%q) = true, want false", d)
		}
	}
}

func TestOrgDomain(t *testing.T) {
	tests := []struct {
		website, email, want string
	}{
		{"https://www.acme.com", "john@other.com", "acme.com"},
		{"", "john@Acme.com", "acme.com"},
		{"   ", "john@acme.com", "acme.com"},
		{"not a website", "john@acme.com", "acme.com"},
		{"", "john@gmail.com", ""},
		{"", "john@GMAIL.com", ""},
		{"acme.com", "john@gmail.com", "acme.com"},
		{"", "", ""},
		{"", "not an email", ""},
		{"", "john@acme", ""},
	}
	for _, tt := range tests {
		if got := crm.OrgDomain(tt.website, tt.email); got != tt.want {
			t.Errorf("OrgDomain(%q, %q) = %q, want %q", tt.website, tt.email, got, tt.want)
		}
	}
}

// TestOrgAllocs pins the allocation-free paths of domain extraction.
func TestOrgAllocs(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"WebsiteDomain", func() { crm.WebsiteDomain("https://www.acme.com/about") }},
		{"EmailDomain", func() { crm.EmailDomain("john@acme.com") }},
		{"IsFreeMail", func() { crm.IsFreeMail("gmail.com") }},
		{"OrgDomain", func() { crm.OrgDomain("", "john@gmail.com") }},
	}
	for _, c := range cases {
		if n := testing.AllocsPerRun(100, c.f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", c.name, n)
		}
	}
	// NormalizeOrgName builds one string, or none for a name that is already folded.
	if n := testing.AllocsPerRun(100, func() { crm.NormalizeOrgName("Acme, Inc.") }); n > 1 {
		t.Errorf("NormalizeOrgName: %v allocations, want at most 1", n)
	}
	if n := testing.AllocsPerRun(100, func() { crm.NormalizeOrgName("acme widgets inc") }); n != 0 {
		t.Errorf("NormalizeOrgName folded: %v allocations, want 0", n)
	}
}

func BenchmarkNormalizeOrgName(b *testing.B) {
	names := []string{"Acme, Inc.", "Société Générale S.A.", "Hewlett-Packard Company", "acme"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		crm.NormalizeOrgName(names[i%len(names)])
	}
}
