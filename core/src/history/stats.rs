//! Monthly totals per currency and per card, read from the `monthly_totals` rollup (one row per
//! month × card × currency × status), so their cost depends on the number of months, not on the
//! size of the history. Months are UTC calendar months.

use super::Status;
use super::query::card_ids;
use crate::store::clock::{civil_from_ms, ms_from_civil};
use crate::store::{Store, StoreError, cards};
use rusqlite::types::Value;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fmt;

/// A calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: u16,
    month: u8,
}

impl Month {
    /// `None` unless `1 <= month <= 12` and the year has four digits.
    pub fn new(year: u16, month: u8) -> Option<Month> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(Month { year, month })
    }

    /// The month a Unix-millisecond timestamp falls in.
    pub fn of_ms(ms: i64) -> Month {
        let (y, m, ..) = civil_from_ms(ms);
        Month {
            year: u16::try_from(y).unwrap_or(0),
            month: m as u8,
        }
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    /// First millisecond of the month.
    pub fn start_ms(self) -> i64 {
        ms_from_civil(i64::from(self.year), u32::from(self.month), 1)
    }

    /// First millisecond of the next month: `[start_ms, end_ms)` is the month.
    pub fn end_ms(self) -> i64 {
        let (y, m) = if self.month == 12 {
            (i64::from(self.year) + 1, 1)
        } else {
            (i64::from(self.year), u32::from(self.month) + 1)
        };
        ms_from_civil(y, m, 1)
    }

    fn key(self) -> i64 {
        i64::from(self.year) * 100 + i64::from(self.month)
    }

    fn from_key(key: i64) -> Option<Month> {
        Month::new(
            u16::try_from(key / 100).ok()?,
            u8::try_from(key % 100).ok()?,
        )
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    /// `YYYY-MM`.
    fn from_str(s: &str) -> Result<Month, String> {
        let bad = || format!("'{s}' is not a month (YYYY-MM)");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which totals to compute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsQuery {
    /// First month (inclusive); `None` from the beginning.
    pub from: Option<Month>,
    /// Last month (inclusive); `None` to the end.
    pub to: Option<Month>,
    /// Only this card.
    pub card_id: Option<String>,
    /// One row per card and currency (otherwise per currency, cards added up).
    pub by_card: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub count: u64,
    pub total_minor: u64,
}

/// Totals of one month in one currency (and one card, when asked per card), by status.
/// Amounts of different currencies are never added together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthlyTotal {
    pub month: Month,
    pub card_id: Option<String>,
    /// ISO 4217 numeric; `None` for records without a currency.
    pub currency: Option<u16>,
    pub pending: Sum,
    pub approved: Sum,
    pub declined: Sum,
    pub reversed: Sum,
    pub expired: Sum,
}

impl MonthlyTotal {
    fn sum_mut(&mut self, s: Status) -> &mut Sum {
        match s {
            Status::Pending => &mut self.pending,
            Status::Approved => &mut self.approved,
            Status::Declined => &mut self.declined,
            Status::Reversed => &mut self.reversed,
            Status::Expired => &mut self.expired,
        }
    }

    /// Money spent or about to be: approved plus pending.
    pub fn spent(&self) -> Sum {
        Sum {
            count: self.approved.count + self.pending.count,
            total_minor: self.approved.total_minor + self.pending.total_minor,
        }
    }
}

/// Newest month first, then currency, then card.
type OutputOrder = (Reverse<Month>, Option<u16>, Option<String>);

impl Store {
    /// Monthly totals, newest month first, then by currency (and card).
    pub fn monthly_totals(&self, q: &StatsQuery) -> Result<Vec<MonthlyTotal>, StoreError> {
        let tx = super::query::snapshot(&self.conn)?;
        let cards = card_ids(&tx)?;
        let mut conds = vec!["month BETWEEN ?1 AND ?2".to_owned()];
        let mut params = vec![
            Value::Integer(q.from.map_or(0, Month::key)),
            Value::Integer(q.to.map_or(i64::MAX, Month::key)),
        ];
        if let Some(card) = &q.card_id {
            params.push(Value::Integer(cards::require(&tx, card)?.card_ref));
            conds.push("card_ref = ?3".into());
        }
        // Per card, the rollup rows are the answer (a primary-key range, no grouping); across
        // cards, SQLite adds them up. Either way a few thousand rows at most, sorted below.
        let sql = if q.by_card {
            format!(
                "SELECT month, card_ref, currency, status, count, total FROM monthly_totals WHERE {}",
                conds.join(" AND ")
            )
        } else {
            format!(
                "SELECT month, NULL, currency, status, sum(count), sum(total) FROM monthly_totals
                 WHERE {} GROUP BY month, currency, status",
                conds.join(" AND ")
            )
        };
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out: BTreeMap<OutputOrder, MonthlyTotal> = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let month_key: i64 = row.get(0)?;
            let card_ref: Option<i64> = row.get(1)?;
            let currency: i64 = row.get(2)?;
            let status: i64 = row.get(3)?;
            let corrupt = |what: &str| StoreError::Corrupt(format!("monthly totals: {what}"));
            let month = Month::from_key(month_key).ok_or_else(|| corrupt("month"))?;
            let card_id = card_ref
                .map(|r| cards.get(&r).cloned().ok_or_else(|| corrupt("card")))
                .transpose()?;
            let currency = match currency {
                0 => None,
                c => Some(u16::try_from(c).map_err(|_| corrupt("currency"))?),
            };
            let status = Status::from_code(status).ok_or_else(|| corrupt("status"))?;
            let sum = Sum {
                count: u64::try_from(row.get::<_, i64>(4)?).map_err(|_| corrupt("count"))?,
                total_minor: u64::try_from(row.get::<_, i64>(5)?).map_err(|_| corrupt("total"))?,
            };
            let total = out
                .entry((Reverse(month), currency, card_id.clone()))
                .or_insert_with(|| MonthlyTotal {
                    month,
                    card_id,
                    currency,
                    pending: Sum::default(),
                    approved: Sum::default(),
                    declined: Sum::default(),
                    reversed: Sum::default(),
                    expired: Sum::default(),
                });
            *total.sum_mut(status) = sum;
        }
        Ok(out.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound() {
        let m: Month = "2024-02".parse().unwrap();
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!(m.end_ms() - m.start_ms(), 29 * 86_400_000);
        assert_eq!(Month::of_ms(m.start_ms()), m);
        assert_eq!(Month::of_ms(m.end_ms() - 1), m);
        assert_eq!(
            "2024-12".parse::<Month>().unwrap().end_ms(),
            "2025-01".parse::<Month>().unwrap().start_ms()
        );
        for bad in [
            "2024-13", "2024-00", "24-01", "2024/01", "2024-1", "", "abcd-ef",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }
}
