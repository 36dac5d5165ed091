//! Which terms a word still being typed stands for when it has too many: the most frequent, and
//! among terms of equal frequency exactly those Xapian 1.4 keeps. Xapian picks them with the C++
//! standard library's `nth_element`, whose choice among equals follows from its steps
//! (introselect: median of three, partition, insertion sort of the last few), so the same steps
//! are taken here on the same input, the terms in index order.

/// Reorders `items` so that its first `keep` are the ones `nth_element` would put there with
/// `before` as the ordering, and truncates to them.
pub fn keep_first<T>(items: &mut Vec<T>, keep: usize, before: impl Fn(&T, &T) -> bool) {
    if keep == 0 || items.len() <= keep {
        items.truncate(keep);
        return;
    }
    let nth = keep - 1;
    let (mut first, mut last) = (0, items.len());
    let mut depth = 2 * (usize::BITS - 1 - last.leading_zeros());
    while last - first > 3 {
        if depth == 0 {
            // The library falls back to a heap here; inputs that degrade this far are not worth
            // matching tie for tie, so take a plain stable order instead.
            items[first..last].sort_by(|a, b| order(&before, a, b));
            break;
        }
        depth -= 1;
        let middle = first + (last - first) / 2;
        move_median_to_first(items, first, (first + 1, middle, last - 1), &before);
        let cut = partition(items, first, last, &before);
        if cut <= nth {
            first = cut;
        } else {
            last = cut;
        }
    }
    insertion_sort(&mut items[first..last], &before);
    items.truncate(keep);
}

fn order<T>(before: &impl Fn(&T, &T) -> bool, a: &T, b: &T) -> std::cmp::Ordering {
    if before(a, b) {
        std::cmp::Ordering::Less
    } else if before(b, a) {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

fn move_median_to_first<T>(
    items: &mut [T],
    result: usize,
    (a, b, c): (usize, usize, usize),
    before: &impl Fn(&T, &T) -> bool,
) {
    let median = if before(&items[a], &items[b]) {
        if before(&items[b], &items[c]) {
            b
        } else if before(&items[a], &items[c]) {
            c
        } else {
            a
        }
    } else if before(&items[a], &items[c]) {
        a
    } else if before(&items[b], &items[c]) {
        c
    } else {
        b
    };
    items.swap(result, median);
}

/// Partitions `items[first + 1..last]` around the pivot at `first`; returns the cut.
fn partition<T>(
    items: &mut [T],
    pivot: usize,
    last: usize,
    before: &impl Fn(&T, &T) -> bool,
) -> usize {
    let (mut low, mut high) = (pivot + 1, last);
    loop {
        while low < last && before(&items[low], &items[pivot]) {
            low += 1;
        }
        high -= 1;
        while high > pivot && before(&items[pivot], &items[high]) {
            high -= 1;
        }
        if low >= high {
            return low;
        }
        items.swap(low, high);
        low += 1;
    }
}

fn insertion_sort<T>(items: &mut [T], before: &impl Fn(&T, &T) -> bool) {
    for index in 1..items.len() {
        if before(&items[index], &items[0]) {
            items[..=index].rotate_right(1);
        } else {
            let mut at = index;
            while before(&items[at], &items[at - 1]) {
                items.swap(at, at - 1);
                at -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::keep_first;

    #[test]
    fn keeps_the_largest_and_everything_when_short() {
        let mut few = vec![3, 1, 2];
        keep_first(&mut few, 5, |a, b| a > b);
        assert_eq!(few, [3, 1, 2]);
        let mut many: Vec<u32> = (0..200).map(|n| (n * 37) % 101).collect();
        keep_first(&mut many, 10, |a, b| a > b);
        let mut kept = many.clone();
        kept.sort_unstable();
        assert_eq!(kept, [96, 96, 97, 97, 98, 98, 99, 99, 100, 100]);
    }

    #[test]
    fn chooses_among_equals_as_the_library_does() {
        // Frequencies of the 146 terms starting with `h` in the title index of the 2,000-article
        // benchmark archive, in index order, and the positions Xapian 1.4 leaves out.
        let mut terms: Vec<(usize, u32)> = [
            2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2,
            1, 2, 1, 1, 2, 1, 2, 2, 3, 1, 1, 1, 1, 5, 2, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 1, 2, 1, 1, 1, 1, 1, 1, 7, 1, 2, 2, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1,
            1,
        ]
        .into_iter()
        .enumerate()
        .collect();
        keep_first(&mut terms, 100, |a, b| a.1 > b.1);
        let mut kept: Vec<usize> = terms.iter().map(|term| term.0).collect();
        kept.sort_unstable();
        let dropped: Vec<usize> = (0..146).filter(|index| !kept.contains(index)).collect();
        let expected_dropped = [
            2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 40, 41, 44, 45, 47, 48, 49, 50, 51, 52,
            53, 54, 55, 56, 57, 59, 61, 62, 63, 64, 65, 66, 68, 71, 72, 73, 74, 75, 76, 78, 80, 81,
            82,
        ];
        assert_eq!(dropped, expected_dropped);
    }
}
