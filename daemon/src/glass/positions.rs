//! Position lists: where in a document a term occurs, needed to check phrases. A list is the
//! last position as a varint; a single position ends there. Otherwise a bit stream follows:
//! the first position (one of `last` values), the count less two (one of `last − first`
//! values), then the positions in between by binary interpolative coding, each coded as one of
//! the values its already-known neighbours leave possible.

use super::GlassError;
use super::codec::read_varint32;

/// A list longer than this is refused; a title holds a few dozen words.
const MAX_POSITIONS: u32 = 1 << 20;

/// Decodes a position list tag.
pub fn decode(tag: &[u8]) -> Result<Vec<u32>, GlassError> {
    let mut input = tag;
    let last = read_varint32(&mut input)?;
    if input.is_empty() {
        return Ok(vec![last]);
    }
    let mut bits = BitReader {
        bytes: input,
        next_byte: 0,
        buffer: 0,
        buffered: 0,
    };
    let first = bits.decode(last)?;
    let count = bits.decode(last - first)?.saturating_add(2);
    if count > MAX_POSITIONS || count - 1 > last - first {
        return Err(GlassError::corrupt(
            "a position list has an impossible length",
        ));
    }
    let mut positions = vec![0; count as usize];
    positions[0] = first;
    positions[count as usize - 1] = last;
    bits.interpolate(&mut positions)?;
    Ok(positions)
}

/// Reads bits least significant first, as Xapian's BitWriter wrote them.
struct BitReader<'a> {
    bytes: &'a [u8],
    next_byte: usize,
    buffer: u64,
    buffered: u32,
}

impl BitReader<'_> {
    fn read_bits(&mut self, count: u32) -> Result<u32, GlassError> {
        while self.buffered < count {
            let byte = *self
                .bytes
                .get(self.next_byte)
                .ok_or(GlassError::corrupt("a position list is cut short"))?;
            self.buffer |= u64::from(byte) << self.buffered;
            self.buffered += 8;
            self.next_byte += 1;
        }
        let value = (self.buffer & ((1u64 << count) - 1)) as u32;
        self.buffer >>= count;
        self.buffered -= count;
        Ok(value)
    }

    /// Decodes one value of `0..outof`. Codes are `bits` or `bits − 1` long: the values in the
    /// middle of the range, which are the likelier ones, get the shorter codes.
    fn decode(&mut self, outof: u32) -> Result<u32, GlassError> {
        match outof {
            0 => return Err(GlassError::corrupt("a position list holds an empty range")),
            1 => return Ok(0),
            _ => {}
        }
        let bits = u32::BITS - (outof - 1).leading_zeros();
        // Computed wide, as `bits` is 32 for ranges over 2^31; the result is below `outof`.
        let spare = ((1u64 << bits) - u64::from(outof)) as u32;
        let value = if spare == 0 {
            self.read_bits(bits)?
        } else {
            let mid_start = (outof - spare) / 2;
            let mut value = self.read_bits(bits - 1)?;
            if value < mid_start && self.read_bits(1)? == 1 {
                value += mid_start + spare;
            }
            value
        };
        if value >= outof {
            return Err(GlassError::corrupt(
                "a position list holds an impossible value",
            ));
        }
        Ok(value)
    }

    /// Fills the positions strictly between the first and last of `positions`, middle first.
    fn interpolate(&mut self, positions: &mut [u32]) -> Result<(), GlassError> {
        let (mut low, high) = (0, positions.len() - 1);
        while low + 1 < high {
            let middle = (low + high) / 2;
            let (known_low, known_high) = (positions[low], positions[high]);
            // Each position between low and high needs a value of its own, which narrows the
            // range the middle one can take.
            let outof = (known_high - known_low)
                .checked_sub((high - low - 1) as u32)
                .ok_or(GlassError::corrupt("a position list is out of order"))?;
            positions[middle] = self.decode(outof)? + known_low + (middle - low) as u32;
            self.interpolate(&mut positions[low..=middle])?;
            low = middle;
        }
        Ok(())
    }
}
