//! The integer and string encodings of Xapian's glass backend. Every decoder takes a cursor
//! (`&mut &[u8]`) and advances it, and fails instead of reading past the end, so corrupt bytes
//! give an error and never a panic.

use super::GlassError;

/// Reads a `pack_uint`: base-128, low bits first, high bit set on every byte but the last.
pub fn read_varint(input: &mut &[u8]) -> Result<u64, GlassError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input
            .split_first()
            .ok_or(GlassError::corrupt("varint cut"))?;
        *input = rest;
        value |= u64::from(byte & 0x7f)
            .checked_shl(shift)
            .filter(|shifted| shifted >> shift == u64::from(byte & 0x7f))
            .ok_or(GlassError::corrupt("varint too large"))?;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(GlassError::corrupt("varint too long"))
}

/// Reads a varint that must fit in 32 bits (document ids, counts, positions).
pub fn read_varint32(input: &mut &[u8]) -> Result<u32, GlassError> {
    u32::try_from(read_varint(input)?).map_err(|_| GlassError::corrupt("value over 32 bits"))
}

/// Reads a `pack_string`: a varint length, then that many bytes.
pub fn read_string<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], GlassError> {
    let len = usize::try_from(read_varint(input)?).unwrap_or(usize::MAX);
    take(input, len)
}

/// Takes `len` bytes from the front of `input`.
pub fn take<'a>(input: &mut &'a [u8], len: usize) -> Result<&'a [u8], GlassError> {
    if input.len() < len {
        return Err(GlassError::corrupt("field runs past its end"));
    }
    let (taken, rest) = input.split_at(len);
    *input = rest;
    Ok(taken)
}

/// Reads a `pack_uint_preserving_sort`: the top three bits of the first byte give the number
/// of bytes that follow, less one; its low five bits and those bytes are the value, big-endian.
/// Byte order then matches numeric order, which is why keys use it.
pub fn read_sortable_uint(input: &mut &[u8]) -> Result<u32, GlassError> {
    let (&first, mut rest) = input
        .split_first()
        .ok_or(GlassError::corrupt("sortable uint cut"))?;
    let following = usize::from(first >> 5) + 1;
    let bytes = take(&mut rest, following)?;
    let mut value = u64::from(first & 0x1f);
    for &byte in bytes {
        value = value << 8 | u64::from(byte);
    }
    *input = rest;
    u32::try_from(value).map_err(|_| GlassError::corrupt("document id over 32 bits"))
}

/// Appends `value` in the sortable form [`read_sortable_uint`] reads.
pub fn push_sortable_uint(key: &mut Vec<u8>, value: u32) {
    let mut low_bytes = Vec::with_capacity(4);
    let mut rest = value;
    loop {
        low_bytes.push((rest & 0xff) as u8);
        rest >>= 8;
        if rest & !0x1f == 0 {
            break;
        }
    }
    key.push(((low_bytes.len() - 1) as u8) << 5 | rest as u8);
    key.extend(low_bytes.iter().rev());
}

/// Appends a term the way glass writes it in keys: every NUL byte becomes NUL 0xff, so that a
/// single NUL can end the term and keys still sort by term.
pub fn push_escaped_term(key: &mut Vec<u8>, term: &[u8]) {
    for &byte in term {
        key.push(byte);
        if byte == 0 {
            key.push(0xff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_low_bits_first() {
        let mut input: &[u8] = &[0xab, 0x14, 0x04];
        assert_eq!(read_varint(&mut input).unwrap(), 2603);
        assert_eq!(read_varint(&mut input).unwrap(), 4);
        assert!(read_varint(&mut input).is_err());
    }

    #[test]
    fn overlong_varints_are_refused() {
        let mut input: &[u8] = &[0xff; 11];
        assert!(read_varint(&mut input).is_err());
        let mut cut: &[u8] = &[0x80];
        assert!(read_varint(&mut cut).is_err());
    }

    #[test]
    fn sortable_uints_round_trip_and_keep_order() {
        let values = [
            0,
            1,
            0x1f,
            0x20,
            0x1fff,
            0x2000,
            0x7fff,
            0x8000,
            0xffff,
            0x1f_ffff,
            u32::MAX,
        ];
        let mut previous = Vec::new();
        for value in values {
            let mut key = Vec::new();
            push_sortable_uint(&mut key, value);
            assert!(key > previous, "{value:#x} sorts after the smaller values");
            let mut input = key.as_slice();
            assert_eq!(read_sortable_uint(&mut input).unwrap(), value);
            assert!(input.is_empty());
            previous = key;
        }
        let mut one = Vec::new();
        push_sortable_uint(&mut one, 1);
        assert_eq!(one, [0x00, 0x01]);
    }

    #[test]
    fn strings_and_escaped_terms() {
        let mut input: &[u8] = b"\x03abcd";
        assert_eq!(read_string(&mut input).unwrap(), b"abc");
        assert_eq!(input, b"d");
        let mut key = Vec::new();
        push_escaped_term(&mut key, b"a\0b");
        assert_eq!(key, b"a\0\xffb");
    }
}
