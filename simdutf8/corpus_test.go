package simdutf8_test

import (
	"math/rand/v2"
	"unicode/utf8"
)

// Runes from which the test and benchmark corpora are drawn.
var (
	latinRunes = []rune("abcdefghijklmnopqrstuvwxyz      ,.éèêëàâäçîïôöùûüÿœæßñáíóúÉÀÇ")
	cjkRunes   = []rune("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从，。、「」")
	emojiRunes = []rune("😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗☺😚😙🥲😋😛😜🤪😝🤑🤗🤭🤫🤔🤐🤨😐😑😶😏😒🙄😬🤥😌😔😪🤤😴😷🤒🤕🤢🤮🤧🥵🥶🥴😵🤯🤠🥳🥸😎🤓🧐 abc")
)

// corpus returns n bytes of valid UTF-8 text of the given kind ("ascii",
// "latin", "cjk" or "emoji"), the same for the same arguments. Text that
// does not fill n exactly is padded with ASCII spaces.
func corpus(kind string, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	b := make([]byte, 0, n+4)
	for len(b) < n {
		var c rune
		switch kind {
		case "ascii":
			c = rune(' ' + r.IntN(95))
		case "latin": // mostly ASCII letters, one in four accented
			if r.IntN(4) == 0 {
				c = latinRunes[27+r.IntN(len(latinRunes)-27)]
			} else {
				c = latinRunes[r.IntN(27)]
			}
		case "cjk":
			c = cjkRunes[r.IntN(len(cjkRunes))]
		case "emoji": // emoji among ASCII words
			if r.IntN(3) == 0 {
				c = emojiRunes[r.IntN(len(emojiRunes))]
			} else {
				c = rune('a' + r.IntN(26))
			}
		default:
			panic(kind)
		}
		if len(b)+utf8.RuneLen(c) > n {
			break
		}
		b = utf8.AppendRune(b, c)
	}
	for len(b) < n {
		b = append(b, ' ')
	}
	return b
}

// randomText returns n bytes: valid UTF-8 made of random code points of
// every length (and, if invalid, with a few bytes then overwritten by random
// ones), possibly ending with a truncated sequence when it does not fit.
func randomText(r *rand.Rand, n int, invalid bool) []byte {
	b := make([]byte, 0, n+4)
	for len(b) < n {
		var c rune
		switch r.IntN(5) {
		case 0, 1:
			c = rune(r.IntN(0x80))
		case 2:
			c = rune(0x80 + r.IntN(0x800-0x80))
		case 3:
			c = rune(0x800 + r.IntN(0x10000-0x800))
			if 0xD800 <= c && c < 0xE000 {
				c = 0xFFFD
			}
		default:
			c = rune(0x10000 + r.IntN(0x110000-0x10000))
		}
		b = utf8.AppendRune(b, c)
	}
	if invalid && n > 0 {
		for range 1 + r.IntN(3) {
			b[r.IntN(n)] = byte(r.Uint32())
		}
	}
	return b[:n]
}
