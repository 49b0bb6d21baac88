package crm

// Organization matching of SPEC §7: a prospect links to the first organization whose normalised
// name equals the value, else the first whose domain equals the row's domain.

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NormalizeOrgName folds an organization name for matching: lowercase; whitespace, dashes,
// brackets and the separators , ; / \ | _ read as a space; every other character that is not a
// letter, digit or combining mark (of any script) removed, so "L.L.C." is "llc" and "AT&T" is
// "att"; spaces collapsed to one and trimmed. Then trailing legal suffixes (Inc, LLC, Ltd,
// GmbH, Corp, Co, …; see isLegalSuffix) are removed one word at a time, as in "Acme Co., Ltd."
// or "Acme Pty Ltd", as long as a word other than an article ("the", "a", "an") remains before
// them: "Acme, Inc.", "ACME inc", "Acme Corp." and "acme" all give "acme", while "The Company"
// stays "the company" and "Inc" stays "inc".
func NormalizeOrgName(s string) string {
	n := s
	if !isNormalOrgName(s) {
		n = foldOrgName(s)
	}
	for {
		sp := strings.LastIndexByte(n, ' ')
		if sp < 0 || !isLegalSuffix(n[sp+1:]) {
			break
		}
		switch rest := n[:sp]; rest {
		case "the", "a", "an":
			return n
		default:
			n = rest
		}
	}
	return n
}

// isNormalOrgName reports whether s is already folded: ASCII lowercase letters and digits in
// words separated by single spaces. Then NormalizeOrgName does not allocate.
func isNormalOrgName(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return s == ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && s[i+1] == ' ' || c != ' ' && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// foldOrgName does the folding of NormalizeOrgName, without suffix removal.
func foldOrgName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == ' ' || c >= '\t' && c <= '\r' || strings.IndexByte(orgNameSeparators, c) >= 0:
				space = true
				continue
			default:
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsSpace(r) || unicode.In(r, unicode.Pd, unicode.Ps, unicode.Pe):
			space = true
		}
	}
	return b.String()
}

// orgNameSeparators are the ASCII punctuation characters NormalizeOrgName reads as a space,
// since they separate words: "Acme,Inc", "Acme (UK)" and "Hewlett-Packard". Other punctuation
// is removed without a trace.
const orgNameSeparators = ",;/\\|()[]{}<>-_"

// isLegalSuffix reports whether w, normalised, is a legal-form suffix of a company name.
func isLegalSuffix(w string) bool {
	switch w {
	case "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co",
		"company", "plc", "sa", "ag", "bv", "nv", "pty", "pvt", "srl", "sarl", "oy", "ab", "as",
		"kg", "lp", "llp", "pc":
		return true
	}
	return false
}

// WebsiteDomain returns the host of a website value, lowercase and without a leading "www.":
// "https://www.Acme.com/about" and "www.acme.com:8080" give "acme.com". Scheme, user info, port,
// path, query and fragment are dropped, as is one trailing dot. The result is "" unless the host
// is an ASCII domain name as ValidEmail requires of an email's domain (so IP addresses,
// "localhost" and internationalised names not in punycode give ""). "www." is kept when removing
// it would leave no domain ("www.com").
func WebsiteDomain(website string) string {
	h := strings.TrimSpace(website)
	if i := strings.Index(h, "://"); i >= 0 && strings.IndexByte(h[:i], '/') < 0 {
		h = h[i+3:]
	} else if strings.HasPrefix(h, "//") {
		h = h[2:]
	}
	if i := strings.IndexAny(h, "/?#"); i >= 0 {
		h = h[:i]
	}
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = h[i+1:]
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	if len(h) > 4 && strings.EqualFold(h[:4], "www.") && isDomainName(h[4:]) {
		h = h[4:]
	}
	if !isDomainName(h) {
		return ""
	}
	return strings.ToLower(h)
}

// EmailDomain returns the lowercase domain after the last '@' of email, or "" when there is no
// '@' or what follows it is not a domain name as ValidEmail requires.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := strings.TrimSpace(email[at+1:])
	if !isDomainName(d) {
		return ""
	}
	return strings.ToLower(d)
}

// IsFreeMail reports whether domain (any case) belongs to a free or consumer mail provider,
// whose addresses say nothing about a prospect's organization. The set is built in; subdomains
// do not match.
func IsFreeMail(domain string) bool {
	_, ok := freeMail[strings.ToLower(domain)]
	return ok
}

// OrgDomain returns the domain of a row for organization matching: the website's domain, else
// the email's domain unless it is a free-mail provider, else "".
func OrgDomain(website, email string) string {
	if d := WebsiteDomain(website); d != "" {
		return d
	}
	if d := EmailDomain(email); d != "" && !IsFreeMail(d) {
		return d
	}
	return ""
}

// freeMail is the built-in set of free-mail and consumer ISP mail domains.
var freeMail = func() map[string]struct{} {
	domains := []string{
		// Google
		"gmail.com", "googlemail.com",
		// Yahoo
		"yahoo.com", "yahoo.co.uk", "yahoo.co.in", "yahoo.in", "yahoo.ca", "yahoo.com.au",
		"yahoo.co.nz", "yahoo.fr", "yahoo.de", "yahoo.it", "yahoo.es", "yahoo.ie", "yahoo.nl",
		"yahoo.be", "yahoo.at", "yahoo.ch", "yahoo.se", "yahoo.no", "yahoo.dk", "yahoo.fi",
		"yahoo.pl", "yahoo.gr", "yahoo.co.jp", "yahoo.co.id", "yahoo.co.th", "yahoo.co.za",
		"yahoo.com.br", "yahoo.com.mx", "yahoo.com.ar", "yahoo.com.sg", "yahoo.com.ph",
		"yahoo.com.my", "yahoo.com.hk", "yahoo.com.tw", "yahoo.com.vn", "yahoo.com.tr",
		"ymail.com", "rocketmail.com",
		// Microsoft
		"hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es",
		"hotmail.nl", "hotmail.be", "hotmail.ca", "hotmail.ch", "hotmail.at", "hotmail.se",
		"hotmail.no", "hotmail.dk", "hotmail.fi", "hotmail.gr", "hotmail.co.jp", "hotmail.co.za",
		"hotmail.com.au", "hotmail.com.br", "hotmail.com.ar", "hotmail.com.mx", "hotmail.com.tr",
		"outlook.com", "outlook.fr", "outlook.de", "outlook.it", "outlook.es", "outlook.jp",
		"outlook.com.br", "outlook.com.au", "live.com", "live.co.uk", "live.fr", "live.de",
		"live.it", "live.nl", "live.be", "live.ca", "live.se", "live.no", "live.dk",
		"live.com.au", "live.com.mx", "live.com.ar", "msn.com", "passport.com",
		// AOL, Apple, Proton
		"aol.com", "aol.co.uk", "aol.de", "aol.fr", "aim.com",
		"icloud.com", "me.com", "mac.com",
		"protonmail.com", "protonmail.ch", "proton.me", "pm.me",
		// GMX, 1&1, mail.com
		"gmx.com", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.fr", "gmx.co.uk", "gmx.us",
		"web.de", "mail.com", "email.com", "usa.com",
		// Russia and neighbours
		"yandex.ru", "yandex.com", "yandex.ua", "yandex.by", "yandex.kz", "ya.ru",
		"mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru",
		// China, Korea
		"qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn",
		"sohu.com", "aliyun.com", "naver.com", "hanmail.net", "daum.net",
		// Privacy and paid consumer mail
		"zoho.com", "zohomail.com", "hey.com", "fastmail.com", "fastmail.fm", "tutanota.com",
		"tutanota.de", "tuta.io", "tutamail.com", "hushmail.com", "mailfence.com", "posteo.de",
		"inbox.com",
		// Consumer ISPs
		"comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
		"charter.net", "earthlink.net", "optonline.net", "frontier.com", "windstream.net",
		"btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com",
		"shaw.ca", "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au",
		"t-online.de", "freenet.de", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net",
		"sfr.fr", "libero.it", "virgilio.it", "alice.it", "tiscali.it",
		"seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
		"bol.com.br", "uol.com.br", "terra.com.br", "rediffmail.com",
	}
	m := make(map[string]struct{}, len(domains))
	for _, d := range domains {
		m[d] = struct{}{}
	}
	return m
}()
