"""A clean chunk of order lines as the four small tables the loader upserts.

Pure pandas; it runs in the import's reader thread while PostgreSQL loads the
previous chunk. Grouping here (an order's totals, a customer's latest details, a
product line's repeats) leaves the database only joins and inserts, and the
database is the import's bottleneck.

The rules are the loader's, row for row:
- a customer's and a product's details come from their latest row in the chunk
  (by order time, then line number);
- an order's gross total is the sum of its non-return lines, or its order total
  when no line has an amount; returns are summed apart, refunds taken as the
  largest refunded amount given; net is gross less returns and refunds, a refund
  taking it down to 0 at most (`refund_taken`), and 0 when cancelled
  (`order_totals`, the one place these totals are computed: the loader calls it
  again for an order merged with what the database holds);
- rows naming no product have no line: their quantity and amounts are summed
  on their order (`unlisted_*`), so they are kept and can be merged again;
- repeated lines of one product in one order (and return kind) are summed, with
  the highest unit price;
- a row whose only money is its order's total is an unpriced line (unit price
  and line total None, see `rows.net_money`): the product is kept, and the order
  total counts once, as the order's gross.

The reader thread is CPU-bound, so the work is done on integer codes: each key
column is factorized once and every grouping reuses its codes; only row numbers
are sorted, and each table takes its columns at the few rows it keeps. Text
sizes and Decimal conversions run once per distinct value, and money is summed
as exact integers when the chunk's amounts allow it (else as Decimals).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from ingest.pipeline.identities import identities

# Column sizes of the tables the text lands in (counted in characters).
TEXT_LIMITS = {"first_name": 150, "last_name": 150, "country": 100, "city": 100, "gender": 30,
               "shop_customer_id": 100, "product_name": 300, "category": 200, "sku_key": 200}

CUSTOMER_COLUMNS = ("customer_key", "customer_email", "shop_customer_id", "first_name",
                    "last_name", "country", "city", "gender", "birth_year", "accepts_marketing")
PRODUCT_COLUMNS = ("sku_key", "product_name", "category")
ORDER_COLUMNS = ("order_key", "customer_key", "ordered_at", "is_cancelled", "gross_total",
                 "returned", "order_total", "refunded", "net_total", "unlisted_quantity",
                 "unlisted_gross", "unlisted_returned")
LINE_COLUMNS = ("order_key", "sku_key", "is_return", "quantity", "unit_price", "line_total")

_ZERO = Decimal(0)
_NEGATIVE_ZERO = Decimal("-0")
# Integer sums stand in for Decimal sums only for exponents in this range, so
# every amount and every power of ten used fits comfortably in int64.
_MAX_EXPONENT = 18


@dataclass(frozen=True, kw_only=True, slots=True)
class ChunkTables:
    customers: pd.DataFrame  # CUSTOMER_COLUMNS, one row per customer key
    products: pd.DataFrame  # PRODUCT_COLUMNS, one row per product key
    orders: pd.DataFrame  # ORDER_COLUMNS, one row per order key
    lines: pd.DataFrame  # LINE_COLUMNS, one row per (order, product, is_return)
    line_orders: np.ndarray  # each line's order, as its row in `orders`
    # Every input row's order and line number, to name the lines of a refused order.
    order_rows: pd.DataFrame


def chunk_tables(frame: pd.DataFrame) -> ChunkTables:
    """Group one chunk (the pipeline's clean frame) into customers, products, orders, lines."""
    ordered_at = frame["ordered_at"].dt.tz_convert("UTC")
    times = ordered_at.dt.tz_localize(None).to_numpy("datetime64[us]")
    # Latest last: "the latest row" of a key is then its last row. Only row
    # numbers are sorted; each table takes its columns at the rows it keeps.
    by_time = np.lexsort((frame["line_no"].to_numpy(), times))
    customer_keys = _Codes.of(frame["customer_key"])
    order_keys = _Codes.of(frame["order_key"])
    product_keys = _product_keys(frame)
    line_totals = _Amounts.of(frame["line_total"])
    orders, order_codes = _orders(frame, by_time, ordered_at, order_keys, customer_keys,
                                  product_keys, line_totals)
    lines, line_order_codes = _lines(frame, by_time, order_keys, product_keys, line_totals)
    # Order key code -> row of `orders` (shifted by one: a missing key is code -1).
    order_row = np.full(len(order_keys.uniques) + 1, -1, dtype=np.intp)
    order_row[order_codes + 1] = np.arange(len(order_codes))
    return ChunkTables(
        customers=_customers(frame, by_time, customer_keys),
        products=_products(frame, by_time, product_keys),
        orders=orders,
        lines=lines,
        line_orders=order_row[line_order_codes + 1],
        order_rows=frame[["order_key", "customer_key", "line_no"]],
    )


@dataclass(frozen=True, slots=True)
class _Codes:
    """A column as one integer code per row (-1: missing) into its distinct values."""

    codes: np.ndarray
    uniques: np.ndarray  # object

    @classmethod
    def of(cls, values: pd.Series | np.ndarray) -> _Codes:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object))
        return cls(codes, uniques)

    def group_names(self, codes: np.ndarray) -> pd.Series:
        """The values at these codes, as Python objects: the loader hashes and copies
        them as such, so a pandas string column would only be converted back."""
        return _objects(self.uniques[codes])


@dataclass(frozen=True, slots=True)
class _Groups:
    """Rows numbered by group, groups numbered by first appearance (as groupby(sort=False))."""

    of_row: np.ndarray
    count: int

    @classmethod
    def of(cls, codes: np.ndarray) -> _Groups:
        of_row, uniques = pd.factorize(codes)
        return cls(of_row, len(uniques))

    def first_rows(self) -> np.ndarray:
        return _first_rows(self.of_row, self.count)


def _first_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """The position of each code's first row (len(codes) for a code with no row)."""
    first = np.full(count, len(codes), dtype=np.intp)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def _last_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """The position of each code's last row (-1 for a code with no row)."""
    return _last_rows_among(codes, np.arange(len(codes)), count)


def _last_rows_among(codes: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    last = np.full(count, -1, dtype=np.intp)
    np.maximum.at(last, codes, rows)
    return last


def _latest_rows(codes: np.ndarray, count: int) -> np.ndarray:
    """Each code's last row, in row order: drop_duplicates(keep="last") on time-ordered rows."""
    last = np.sort(_last_rows(codes, count))
    return last[last >= 0]


def _taken(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """The column's values at these rows, numbered from 0, in the column's own dtype."""
    return pd.Series(column.array.take(rows), name=column.name, dtype=column.dtype)


def _objects(values: np.ndarray) -> pd.Series:
    # Explicitly object: pandas would otherwise infer "str" for text.
    return pd.Series(values, dtype=object)


# --- Text ------------------------------------------------------------------


def _limited(values: pd.Series, name: str) -> pd.Series:
    """The texts cut to their column's size, measured once per distinct text."""
    texts = values.astype(object)
    keys = _Codes.of(texts)
    cut = _cut_to_size(keys.uniques, name)
    if cut is keys.uniques:
        return texts
    limited = texts.to_numpy(copy=True)
    present = keys.codes >= 0
    limited[present] = cut[keys.codes[present]]
    return pd.Series(limited, index=texts.index, name=texts.name, dtype=object)


def _cut_to_size(texts: np.ndarray, name: str) -> np.ndarray:
    """Distinct texts cut to their column's size (the same array when none is too long)."""
    size = TEXT_LIMITS[name]
    series = _objects(texts)
    too_long = (series.str.len() > size).to_numpy()
    if not too_long.any():
        return texts
    return series.where(~too_long, series.str.slice(0, size)).to_numpy()


def _product_keys(frame: pd.DataFrame) -> _Codes:
    """The product key of each row, cut to the column size (-1: the row names no product)."""
    # As object, whatever the column's dtype: the lines' sku_key gets its dtype from the keys.
    skus = _Codes.of(np.asarray(frame["sku"], dtype=object))
    no_sku = (skus.codes < 0).any() or (skus.uniques == "").any()
    keys = _Codes.of(_keys_with_names(frame)) if no_sku else skus
    cut = _cut_to_size(keys.uniques, "sku_key")
    if cut is keys.uniques:
        return keys
    merged = _Codes.of(cut)  # two long keys may share their first characters
    return _Codes(np.where(keys.codes >= 0, merged.codes[keys.codes], -1), merged.uniques)


def _keys_with_names(frame: pd.DataFrame) -> pd.Series:
    """The SKU; a product without one is known by its name ("name:" + lower-case name)."""
    sku = frame["sku"].astype(object)
    no_sku = sku.isna() | (sku == "")
    names = frame["product_name"].astype(object)[no_sku]
    sku = sku.copy()
    sku[no_sku] = ("name:" + names.fillna("").str.strip().str.lower()).where(names.notna())
    return sku


# --- Tables ----------------------------------------------------------------


def _customers(frame: pd.DataFrame, by_time: np.ndarray, customer_keys: _Codes) -> pd.DataFrame:
    # A missing key is a key of its own here, as in drop_duplicates.
    codes = np.where(customer_keys.codes >= 0, customer_keys.codes, len(customer_keys.uniques))
    rows = by_time[_latest_rows(codes[by_time], len(customer_keys.uniques) + 1)]
    columns = {name: _taken(frame[name], rows) for name in CUSTOMER_COLUMNS}
    full = _taken(frame["full_name"], rows)
    first, last = columns["first_name"].astype(object), columns["last_name"].astype(object)
    has_full = full.notna() & first.isna()
    if has_full.any():  # "Jane van Dijk" -> first "Jane", last "van Dijk"
        parts = full[has_full].astype(object).str.strip().str.split(n=1, expand=True)
        first, last = first.copy(), last.copy()
        first[has_full] = parts[0]
        last[has_full] = parts[1] if parts.shape[1] > 1 else None
    columns.update(first_name=first, last_name=last)
    for name in ("first_name", "last_name", "country", "city", "gender", "shop_customer_id"):
        columns[name] = _limited(columns[name], name)
    return pd.DataFrame(columns)


def _products(frame: pd.DataFrame, by_time: np.ndarray, product_keys: _Codes) -> pd.DataFrame:
    keys = product_keys.codes[by_time]
    named = np.flatnonzero(keys >= 0)
    latest = named[_latest_rows(keys[named], len(product_keys.uniques))]
    rows = by_time[latest]
    return pd.DataFrame({
        "sku_key": _objects(product_keys.uniques[keys[latest]]),
        "product_name": _limited(_taken(frame["product_name"], rows), "product_name"),
        "category": _limited(_taken(frame["category"], rows), "category"),
    })


def _orders(frame: pd.DataFrame, by_time: np.ndarray, ordered_at: pd.Series, order_keys: _Codes,
            customer_keys: _Codes, product_keys: _Codes,
            line_totals: _Amounts) -> tuple[pd.DataFrame, np.ndarray]:
    """The orders, and each one's order key code."""
    groups = _Groups.of(order_keys.codes[by_time])
    first_rows = by_time[groups.first_rows()]
    line_total = line_totals.at(by_time)
    is_return = frame["is_return"].to_numpy(dtype=bool)[by_time]
    gross = _group_sums(groups, line_total.where(~is_return, _ZERO), min_count=1)
    returned = _group_sums(groups, line_total.where(is_return, _ZERO), min_count=0, negated=True)
    priced = _group_any(groups, line_total.codes >= 0)
    order_total = _group_max(groups, _Amounts.of(frame["order_total"]).at(by_time))
    refunded = _group_max(groups, _Amounts.of(frame["refunded_amount"]).at(by_time))
    cancelled = _group_any(groups, frame["is_cancelled"].to_numpy(dtype=bool)[by_time])
    gross_total, net_total = order_totals(gross=gross, priced=priced, returned=returned,
                                          order_total=order_total, refunded=refunded,
                                          cancelled=cancelled)
    codes = order_keys.codes[first_rows]
    return pd.DataFrame({
        "order_key": order_keys.group_names(codes),
        # One customer per order: the reader refuses rows naming a second one.
        "customer_key": _first_present(frame["customer_key"], customer_keys.codes[by_time],
                                       groups, by_time),
        # Rows are in time order, so an order's first row is its earliest.
        "ordered_at": ordered_at.array.take(first_rows),
        "is_cancelled": cancelled,
        "gross_total": _objects(gross_total),
        "returned": _objects(returned),
        "order_total": _objects(order_total),
        "refunded": _objects(refunded),
        "net_total": _objects(net_total),
        **_unlisted(frame, by_time, groups, product_keys, line_total, is_return),
    }), codes


def _unlisted(frame: pd.DataFrame, by_time: np.ndarray, groups: _Groups, product_keys: _Codes,
              line_total: _Amounts, is_return: np.ndarray) -> dict[str, pd.Series]:
    """Per order, the rows naming no product: their quantity, purchases and returns
    (None where an order has none of them)."""
    unlisted = product_keys.codes[by_time] < 0
    nothing = np.full(groups.count, None, dtype=object)
    if not unlisted.any():  # most files name a product on every row
        return {"unlisted_quantity": _objects(nothing), "unlisted_gross": _objects(nothing),
                "unlisted_returned": _objects(nothing)}
    rows = np.bincount(groups.of_row[unlisted], minlength=groups.count)
    quantities = np.zeros(groups.count, dtype=np.int64)
    np.add.at(quantities, groups.of_row[unlisted],
              np.asarray(frame["quantity"].to_numpy(), dtype=np.int64)[by_time][unlisted])
    quantity = pd.array(quantities, dtype="Int64")
    quantity[rows == 0] = pd.NA
    return {
        "unlisted_quantity": pd.Series(quantity),
        "unlisted_gross": _objects(_group_sums(groups, line_total.only(unlisted & ~is_return),
                                               min_count=1)),
        "unlisted_returned": _objects(_group_sums(groups, line_total.only(unlisted & is_return),
                                                  min_count=1, negated=True)),
    }


def _group_any(groups: _Groups, flags: np.ndarray) -> np.ndarray:
    return np.bincount(groups.of_row[flags], minlength=groups.count) > 0


def _first_present(column: pd.Series, codes: np.ndarray, groups: _Groups,
                   by_time: np.ndarray) -> pd.Series:
    """Each group's first value that is not missing (codes in time order), as groupby's "first"."""
    present = np.flatnonzero(codes >= 0)
    first = _first_rows(groups.of_row[present], groups.count)
    found = first < len(present)
    rows = np.zeros(groups.count, dtype=np.intp)
    rows[found] = by_time[present[first[found]]]
    values = _taken(column, rows)
    if not found.all():
        values[~found] = None  # missing, as the column writes it (None for object)
    return values


def order_totals(*, gross: np.ndarray, priced: np.ndarray, returned: np.ndarray,
                 order_total: np.ndarray, refunded: np.ndarray,
                 cancelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orders' gross and net totals (Decimal objects) from their parts: the one rule,
    for a chunk's orders and for orders merged with what the database holds.

    `gross` is the sum of an order's purchased amounts, `priced` whether any of its
    rows had an amount (else its order total, 0 without one, is its gross);
    `returned` and `refunded` are positive (None: none). Net is gross less returns
    and the part of the refund `refund_taken` takes, 0 when cancelled. Most orders
    have neither: their net is their gross, the same objects. Decimal arithmetic is
    exact; PostgreSQL rounds to the column's cents on input.
    """
    totals = gross
    if not priced.all():
        totals = gross.copy()
        fallback = order_total[~priced]
        totals[~priced] = np.where(pd.isna(fallback), _ZERO, fallback)
    returned, refunded = _zero_if_missing(returned), _zero_if_missing(refunded)
    adjusted = np.flatnonzero(~cancelled & ((returned != 0) | (refunded != 0)))
    if not len(adjusted) and not cancelled.any():
        return totals, totals
    net = totals.copy()
    for row in adjusted.tolist():
        kept = Decimal(totals[row]) - Decimal(returned[row])
        net[row] = kept - refund_taken(kept, Decimal(refunded[row]))
    net[cancelled] = _ZERO
    return totals, net


def refund_taken(kept: Decimal, refunded: Decimal) -> Decimal:
    """The part of an order's refund taken off its goods `kept` after returns: all of it
    down to 0 at most.

    A refunded amount is what was paid back, shipping and tax included (Shopify's
    `Refunded Amount`, Stripe's `Amount Refunded`), while an order's value is its
    goods: the part of a refund above them was never in that value. An order already
    below 0 (a return exported on its own) keeps its returns' value; no refund is taken.
    """
    return min(refunded, max(kept, _ZERO))


def refunds_above_goods(*, gross: np.ndarray, returned: np.ndarray, refunded: np.ndarray,
                        cancelled: np.ndarray) -> np.ndarray:
    """Which orders (not cancelled) were refunded more than their goods after returns:
    those `order_totals` took down to 0 at most, not by their whole refund."""
    return np.array([not stop and refund_taken(Decimal(g) - Decimal(r), Decimal(f)) < f
                     for g, r, f, stop in zip(gross, _zero_if_missing(returned),
                                              _zero_if_missing(refunded), cancelled)],
                    dtype=bool)


def _zero_if_missing(values: np.ndarray) -> np.ndarray:
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = _ZERO
    return values


def _lines(frame: pd.DataFrame, by_time: np.ndarray, order_keys: _Codes, product_keys: _Codes,
           line_totals: _Amounts) -> tuple[pd.DataFrame, np.ndarray]:
    """The lines, and each one's order key code: every row naming a product, priced or not."""
    named = by_time[product_keys.codes[by_time] >= 0]
    orders, products = order_keys.codes[named], product_keys.codes[named]
    is_return = frame["is_return"].to_numpy()[named]
    # One integer per (order, product, is_return): the groupby keys as one code.
    groups = _Groups.of((orders * len(product_keys.uniques) + products) * 2 + is_return)
    first = groups.first_rows()
    return pd.DataFrame({
        "order_key": order_keys.group_names(orders[first]),
        "sku_key": product_keys.group_names(products[first]),
        "is_return": is_return[first],
        "quantity": _group_int_sums(groups, frame["quantity"].take(named)),
        "unit_price": _objects(_group_max(groups, _Amounts.of(frame["unit_price"]).at(named))),
        # None: no row of the line had an amount of its own (its order's total counts).
        "line_total": _objects(_group_sums(groups, line_totals.at(named), min_count=1)),
    }), orders[first]


def _group_int_sums(groups: _Groups, values: pd.Series) -> np.ndarray | pd.api.extensions.ExtensionArray:
    if values.dtype != np.int64:  # not the reader's plain integers: as pandas sums them
        return values.groupby(groups.of_row).sum().array
    sums = np.zeros(groups.count, dtype=np.int64)
    np.add.at(sums, groups.of_row, values.to_numpy())
    return sums


# --- Money -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Amounts:
    """A money column as one code per row (-1: no amount) into its distinct Decimal objects.

    Distinct by object, not by value: 1.5 and 1.50 are equal Decimals whose
    exponents must both survive, and the reader shares one object per amount
    text, so a chunk holds few of them.
    """

    codes: np.ndarray
    values: np.ndarray  # object, no missing values

    @classmethod
    def of(cls, column: pd.Series) -> _Amounts:
        objects = column.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(objects, skipna=True) == "empty":
            # No amount at all (most files give no order totals or refunds): skip the pass below.
            return cls(np.full(len(objects), -1, dtype=np.intp), np.array([], dtype=object))
        codes, distinct = pd.factorize(identities(objects))
        values = objects[_first_rows(codes, len(distinct))]
        present = ~pd.isna(values)
        if present.all():
            return cls(codes, values)
        # Rows without an amount get code -1; the others are renumbered past the gaps.
        renumbered = np.where(present, np.cumsum(present) - 1, -1)
        return cls(renumbered[codes], values[present])

    def at(self, rows: np.ndarray) -> _Amounts:
        return _Amounts(self.codes[rows], self.values)

    def only(self, keep: np.ndarray) -> _Amounts:
        """The amounts of the kept rows; the others have none."""
        return _Amounts(np.where(keep, self.codes, -1), self.values)

    def where(self, keep: np.ndarray, other: Decimal) -> _Amounts:
        values = np.append(self.values, np.array([other], dtype=object))
        return _Amounts(np.where(keep, self.codes, len(self.values)), values)

    def row_values(self) -> np.ndarray:
        values = np.full(len(self.codes), None, dtype=object)
        present = self.codes >= 0
        values[present] = self.values[self.codes[present]]
        return values


def _group_max(groups: _Groups, amounts: _Amounts) -> np.ndarray:
    """The largest amount per group (None where a group has none); ties go to the last row.

    Ordered by float, returned as the exact Decimal: money never has enough digits
    for two different amounts to compare equal as floats.
    """
    floats = pd.to_numeric(_objects(amounts.values), errors="coerce").to_numpy(dtype=float)
    rows = np.flatnonzero(amounts.codes >= 0)
    rows = rows[~np.isnan(floats[amounts.codes[rows]])]
    of_row, row_floats = groups.of_row[rows], floats[amounts.codes[rows]]
    top = np.full(groups.count, -np.inf)
    np.maximum.at(top, of_row, row_floats)
    at_top = row_floats == top[of_row]
    last = _last_rows_among(of_row[at_top], rows[at_top], groups.count)
    result = np.full(groups.count, None, dtype=object)
    found = last >= 0
    result[found] = amounts.values[amounts.codes[last[found]]]
    return result


def _group_sums(groups: _Groups, amounts: _Amounts, *, min_count: int,
                negated: bool = False) -> np.ndarray:
    """Decimal sums per group (or minus them), exactly as pandas adds Decimal objects.

    A group without amounts sums to None with min_count=1, else to 0 (pandas'
    int). A one-term sum is that term; longer sums are added as integers when
    `_Scaled` proves it exact for this chunk, else as Decimals by pandas.
    """
    present = amounts.codes >= 0
    of_row, codes = groups.of_row[present], amounts.codes[present]
    scaled = _Scaled.of(amounts.values, np.bincount(codes, minlength=len(amounts.values)))
    if scaled is None:
        sums = _objects(amounts.row_values()).groupby(groups.of_row).sum(min_count=min_count)
        return (-sums if negated else sums).to_numpy(dtype=object)
    terms = np.bincount(of_row, minlength=groups.count)
    sums = np.full(groups.count, None if min_count else 0, dtype=object)
    one = terms == 1
    if one.any():
        only_term = np.zeros(groups.count, dtype=np.intp)
        np.maximum.at(only_term, of_row, codes)
        sums[one] = (-amounts.values if negated else amounts.values)[only_term[one]]
    many = terms > 1
    if many.any():
        sums[many] = _decimals(_integer_sums(groups, of_row, scaled.at(codes), negated), many)
    return sums


@dataclass(frozen=True, slots=True)
class _Scaled:
    """Decimals as exact integers in units of 10**-scale."""

    units: np.ndarray  # int64
    exponents: np.ndarray  # int64, each Decimal's own exponent
    negative_zero: np.ndarray  # bool
    scale: int

    @classmethod
    def of(cls, values: np.ndarray, counts: np.ndarray) -> _Scaled | None:
        """None unless integer sums give exactly what Decimal addition gives for this chunk.

        Decimal addition is exact (the smallest exponent, no rounding) while every
        partial sum fits the context's precision; the sum of all amounts' sizes
        (each distinct amount times its rows) bounds every partial sum, and int64.
        """
        context = decimal.getcontext()
        if context.rounding == decimal.ROUND_FLOOR:  # there x + -x is -0, not 0
            return None
        if not all(type(v) is Decimal and v.is_finite() for v in values):
            return None
        exponents = [v.as_tuple().exponent for v in values]
        if any(abs(e) > _MAX_EXPONENT for e in exponents):
            return None
        scale = max(0, -min(exponents, default=0))
        units = [n * 10**scale // d for n, d in (v.as_integer_ratio() for v in values)]
        limit = min(2**63, 10**context.prec)
        total = sum(abs(u) * int(c) for u, c in zip(units, counts, strict=True))
        if total >= limit or any(abs(u) >= limit for u in units):
            return None
        return cls(units=np.array(units, dtype=np.int64),
                   exponents=np.array(exponents, dtype=np.int64),
                   negative_zero=np.array([v.is_zero() and v.is_signed() for v in values],
                                          dtype=bool),
                   scale=scale)

    def at(self, codes: np.ndarray) -> _Scaled:
        return _Scaled(self.units[codes], self.exponents[codes], self.negative_zero[codes],
                       self.scale)


def _integer_sums(groups: _Groups, of_row: np.ndarray, terms: _Scaled, negated: bool) -> _Scaled:
    """Each group's sum of its terms (one per row), or minus it."""
    units = np.zeros(groups.count, dtype=np.int64)
    np.add.at(units, of_row, terms.units)
    # An exact Decimal sum has the smallest exponent of its terms...
    exponents = np.full(groups.count, _MAX_EXPONENT, dtype=np.int64)
    np.minimum.at(exponents, of_row, terms.exponents)
    # ...and is -0 only when every term is -0 (e.g. returns of free items); minus
    # a sum is never -0: -(+0) and -(-0) are both +0.
    signed = np.bincount(of_row[~terms.negative_zero], minlength=groups.count)
    negative_zero = (signed == 0) & (not negated)
    return _Scaled(-units if negated else units, exponents, negative_zero, terms.scale)


def _decimals(scaled: _Scaled, which: np.ndarray) -> np.ndarray:
    """Decimal objects for the chosen sums, built once per distinct (sum, exponent, sign of zero)."""
    units, exponents = scaled.units[which], scaled.exponents[which]
    negative_zero = scaled.negative_zero[which]
    unit_codes, _ = pd.factorize(units)
    exponent_span = 2 * _MAX_EXPONENT + 1
    kinds = (unit_codes * exponent_span + exponents + _MAX_EXPONENT) * 2 + negative_zero
    codes, distinct = pd.factorize(kinds)
    firsts = _first_rows(codes, len(distinct))
    built = np.empty(len(firsts), dtype=object)
    built[:] = [_decimal(*parts, scaled.scale) for parts in zip(
        units[firsts].tolist(), exponents[firsts].tolist(), negative_zero[firsts].tolist())]
    return built[codes]


def _decimal(units: int, exponent: int, negative_zero: bool, scale: int) -> Decimal:
    coefficient = units // 10 ** (exponent + scale)  # exact: no term has a smaller exponent
    # scaleb is exact here: `_Scaled.of` checked every coefficient fits the precision.
    return (_NEGATIVE_ZERO if negative_zero else Decimal(coefficient)).scaleb(exponent)
