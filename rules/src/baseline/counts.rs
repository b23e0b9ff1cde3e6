//! Serde for the learned count vectors (the baseline's histograms and the
//! learned rules' [`Histogram`](crate::rule::histogram::Histogram)s): one
//! compact string, about half the JSON of a number array.
//!
//! Each count is written in base 32, most significant digit first: leading
//! digits from `MORE`, the last digit from `LAST`, so a count below 32 is one
//! character and one below 1024 (most counts, at 100 per stretch) two. A run
//! of three or more zeros is `.` and the run's length; trailing zeros are not
//! written at all (readers pad to size).
//!
//! States written before this format (a JSON array, with a run of `n` zeros
//! as `-n`) are still read.
//!
// Design: the alphabet is printable ASCII that JSON never escapes, so the
// stored text is exactly these characters.

use serde::{Deserializer, Serializer};

const LAST: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
const MORE: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyzWXYZ+/";
const ZEROS: u8 = b'.';
/// Each byte's digit: 1–32 for `LAST`'s digits 0–31, 33–64 for `MORE`'s,
/// 0 for a byte of neither. (Searching the alphabets for every character
/// made reading 100,000 stored states at start-up take seconds.)
const DIGITS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = 0;
    while d < 32 {
        table[LAST[d] as usize] = d as u8 + 1;
        table[MORE[d] as usize] = d as u8 + 33;
        d += 1;
    }
    table
};
/// No stored vector is anywhere near this long; longer input is refused.
const MAX_LEN: usize = 100_000;

fn push_number(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 13];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = (n % 32) as u8;
        n /= 32;
        if n == 0 {
            break;
        }
    }
    let last = digits.len() - 1;
    for (j, &d) in digits.iter().enumerate().skip(i) {
        let table = if j == last { LAST } else { MORE };
        out.push(char::from(table[usize::from(d)]));
    }
}

/// `counts` as the compact text.
pub fn encode(counts: &[u32]) -> String {
    let used = counts.len() - counts.iter().rev().take_while(|&&c| c == 0).count();
    let mut out = String::new();
    let mut zeros = 0u64;
    let flush = |out: &mut String, zeros: &mut u64| {
        if *zeros >= 3 {
            out.push(char::from(ZEROS));
            push_number(out, *zeros);
        } else {
            (0..*zeros).for_each(|_| out.push('0'));
        }
        *zeros = 0;
    };
    for &c in &counts[..used] {
        if c == 0 {
            zeros += 1;
            continue;
        }
        flush(&mut out, &mut zeros);
        push_number(&mut out, u64::from(c));
    }
    out
}

/// The counts written by [`encode`].
pub fn decode(text: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    let (mut run, mut n, mut digits) = (false, 0u64, 0usize);
    for b in text.bytes() {
        if b == ZEROS && digits == 0 && !run {
            run = true;
            continue;
        }
        digits += 1;
        let (digit, last) = match DIGITS[usize::from(b)] {
            0 => {
                return Err(format!(
                    "unexpected character {:?} in counts",
                    char::from(b)
                ));
            }
            d @ 1..=32 => (d - 1, true),
            d => (d - 33, false),
        };
        n = n
            .checked_mul(32)
            .and_then(|n| n.checked_add(digit as u64))
            .filter(|&n| n <= u64::from(u32::MAX))
            .ok_or("count too large")?;
        if !last {
            continue;
        }
        if run {
            let zeros = usize::try_from(n).map_err(|e| e.to_string())?;
            if out.len() + zeros > MAX_LEN {
                return Err("zero run too long".into());
            }
            out.resize(out.len() + zeros, 0);
        } else {
            out.push(u32::try_from(n).map_err(|e| e.to_string())?);
        }
        if out.len() > MAX_LEN {
            return Err("too many counts".into());
        }
        (run, n, digits) = (false, 0, 0);
    }
    if run || digits != 0 {
        return Err("counts end in the middle of a number".into());
    }
    // Grown by doubling, a day's 648 gap counts took room for 1,024: with
    // 100,000 meters in memory that was 150 MB of nothing.
    out.shrink_to_fit();
    Ok(out)
}

pub fn serialize<S: Serializer>(counts: &[u32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(counts))
}

/// Either form: the compact text, or the older array of counts and runs.
// Design: a visitor that takes whichever comes, rather than an untagged
// enum, which buffers every value before trying its variants: loading
// 100,000 stored states at start-up spent much of its time there.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    d.deserialize_any(CountsVisitor)
}

struct CountsVisitor;

impl<'de> serde::de::Visitor<'de> for CountsVisitor {
    type Value = Vec<u32>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("counts as compact text or as an array of counts and zero runs")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Vec<u32>, E> {
        decode(text).map_err(E::custom)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u32>, A::Error> {
        use serde::de::Error;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<i64>()? {
            if v < 0 {
                let n = usize::try_from(-v).map_err(A::Error::custom)?;
                if out.len() + n > MAX_LEN {
                    return Err(A::Error::custom("zero run too long"));
                }
                out.extend(std::iter::repeat_n(0, n));
            } else {
                out.push(u32::try_from(v).map_err(A::Error::custom)?);
                if out.len() > MAX_LEN {
                    return Err(A::Error::custom("too many counts"));
                }
            }
        }
        out.shrink_to_fit();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_back_identical_and_short() {
        let cases: [&[u32]; 6] = [
            &[],
            &[0, 0, 0],
            &[5, 0, 31, 32, 0, 0, 1023, 1024],
            &[
                0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 9,
            ],
            &[u32::MAX, 0, 1, 100, 466, 15_508],
            &[0, 0, 1, 0, 0],
        ];
        for counts in cases {
            let text = encode(counts);
            let used = counts.len() - counts.iter().rev().take_while(|&&c| c == 0).count();
            assert_eq!(decode(&text).unwrap(), &counts[..used], "{text}");
        }
        assert_eq!(encode(&[5, 0, 31, 32, 0, 0, 1023, 1024]), "50Vb000/Vba0");
        assert_eq!(encode(&[0, 0, 0, 0, 7]), ".47");
        assert_eq!(encode(&[100, 466]), "d4oI");
    }

    #[test]
    fn bad_text_is_refused_not_trusted() {
        for bad in ["a", ".", "x!", "////////", ".ab", "5 4", ".////V"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_older_array_form_still_reads() {
        let old: Vec<u32> =
            deserialize(&mut serde_json::Deserializer::from_str("[-2,42,-1,7]")).unwrap();
        assert_eq!(old, [0, 0, 42, 0, 7]);
        let new: Vec<u32> =
            deserialize(&mut serde_json::Deserializer::from_str("\"00bA07\"")).unwrap();
        assert_eq!(new, [0, 0, 42, 0, 7]);
        assert!(deserialize(&mut serde_json::Deserializer::from_str("[-99999999999]")).is_err());
    }
}
