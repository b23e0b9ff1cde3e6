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

use serde::{Deserialize, Deserializer, Serializer, de::Error};

const LAST: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
const MORE: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyzWXYZ+/";
const ZEROS: u8 = b'.';
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
        let (digit, last) = match (
            LAST.iter().position(|&c| c == b),
            MORE.iter().position(|&c| c == b),
        ) {
            (Some(d), _) => (d, true),
            (None, Some(d)) => (d, false),
            (None, None) => {
                return Err(format!(
                    "unexpected character {:?} in counts",
                    char::from(b)
                ));
            }
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
    Ok(out)
}

pub fn serialize<S: Serializer>(counts: &[u32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(counts))
}

/// Either form: the compact text, or the older array of counts and runs.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Text(String),
    Runs(Vec<i64>),
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    match Stored::deserialize(d)? {
        Stored::Text(text) => decode(&text).map_err(D::Error::custom),
        Stored::Runs(runs) => {
            let mut out = Vec::new();
            for v in runs {
                if v < 0 {
                    let n = usize::try_from(-v).map_err(D::Error::custom)?;
                    if out.len() + n > MAX_LEN {
                        return Err(D::Error::custom("zero run too long"));
                    }
                    out.extend(std::iter::repeat_n(0, n));
                } else {
                    out.push(u32::try_from(v).map_err(D::Error::custom)?);
                }
            }
            Ok(out)
        }
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
