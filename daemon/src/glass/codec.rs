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

/// Reads a `pack_uint_preserving_sort`: big-endian, with the length in the leading one bits of
/// the first byte. A first byte below 0x80 is followed by one more byte (values below 0x8000);
/// each leading one bit adds a byte, and the bits after the first zero bit start the value.
/// Byte order then matches numeric order, which is why keys use it.
pub fn read_sortable_uint(input: &mut &[u8]) -> Result<u32, GlassError> {
    let (&first, mut rest) = input
        .split_first()
        .ok_or(GlassError::corrupt("sortable uint cut"))?;
    let extra = first.leading_ones();
    // Eight leading ones would announce more bytes than any integer has.
    if extra == 8 {
        return Err(GlassError::corrupt("sortable uint has a bad length"));
    }
    let bytes = take(&mut rest, extra as usize + 1)?;
    let mut value = u64::from(first & (0x7f >> extra));
    for &byte in bytes {
        value = value << 8 | u64::from(byte);
    }
    *input = rest;
    u32::try_from(value).map_err(|_| GlassError::corrupt("document id over 32 bits"))
}

/// Appends `value` in the sortable form [`read_sortable_uint`] reads, in as few bytes as it
/// takes: 2 below 0x8000, 3 below 0x40_0000, 4 below 0x2000_0000, else 5.
pub fn push_sortable_uint(key: &mut Vec<u8>, value: u32) {
    let [b0, b1, b2, b3] = value.to_be_bytes();
    match value {
        0..0x8000 => key.extend([b2, b3]),
        0x8000..0x40_0000 => key.extend([0x80 | b1, b2, b3]),
        0x40_0000..0x2000_0000 => key.extend([0xc0 | b0, b1, b2, b3]),
        _ => key.extend([0xe0, b0, b1, b2, b3]),
    }
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
            0x3f_ffff,
            0x40_0000,
            0x1fff_ffff,
            0x2000_0000,
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
    }

    #[test]
    fn sortable_uints_take_the_forms_xapian_writes() {
        // Docdata keys of a database python3-xapian 1.4.22 wrote with these document ids.
        let forms: [(u32, &[u8]); 10] = [
            (1, &[0x00, 0x01]),
            (0x2001, &[0x20, 0x01]),
            (0x7fff, &[0x7f, 0xff]),
            (0x8000, &[0x80, 0x80, 0x00]),
            (0x1_0000, &[0x81, 0x00, 0x00]),
            (0x3f_ffff, &[0xbf, 0xff, 0xff]),
            (0x40_0000, &[0xc0, 0x40, 0x00, 0x00]),
            (0x1fff_ffff, &[0xdf, 0xff, 0xff, 0xff]),
            (0x2000_0000, &[0xe0, 0x20, 0x00, 0x00, 0x00]),
            (u32::MAX, &[0xe0, 0xff, 0xff, 0xff, 0xff]),
        ];
        for (value, form) in forms {
            let mut key = Vec::new();
            push_sortable_uint(&mut key, value);
            assert_eq!(key, form, "{value:#x}");
        }
        let mut bad: &[u8] = &[0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(read_sortable_uint(&mut bad).is_err());
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
