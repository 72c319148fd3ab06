"""A large synthetic county for the scale benchmark, generated inside DuckDB (no Python row loop).

``generate(out_dir, ledger_lines, seed)`` writes the six tables as UTF-8 CSV files with canonical
headers: ``ledger.csv`` with ``ledger_lines`` voucher lines, ``payments.csv`` and
``bank_txns.csv`` with a fifth as many rows each (10M ledger <-> 2M payments <-> 2M bank lines),
plus ``units.csv`` (one unit per 5,000 voucher lines, at least 8), ``accounts.csv`` and
``budget.csv``.  Every value is drawn from ``hash(row, seed)``, so the same arguments give the
same bytes.  The books mirror the bank: most bank lines have a 1002 voucher line of the same
amount a few days off (SF02 has real matching to do); payees come from a pool shared by the
county (SF05/SF06 self-joins see realistic groups).  About one row in a thousand carries an
export's mess (``1,234.50`` money, ``2024/3/5`` dates) and a handful are bad or subtotal rows,
so the ingest's slow paths are exercised too.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb


def _r(expr: str, seed: int, salt: int) -> str:
    """SQL for a pseudo-random non-negative integer from ``expr`` (deterministic)."""
    return f"((hash({expr}, {seed}, {salt}) % 1000000007)::BIGINT)"


def generate(out_dir, ledger_lines: int, seed: int = 7, threads: int | None = None) -> dict[str, int]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_led = int(ledger_lines) // 2 * 2
    n_pay = max(10, n_led // 5)
    n_bank = max(10, n_led // 5)
    n_units = max(8, n_led // 5000)
    n_budget = n_units * 20
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    R = lambda expr, salt: _r(expr, seed, salt)  # noqa: E731
    copy = "(HEADER, DELIMITER ',', QUOTE '\"')"

    def write(name: str, sql: str) -> None:
        con.execute(f"COPY ({sql}) TO '{out / (name + '.csv')}' {copy}")

    write("units", f"""
        SELECT 'U' || lpad(i::VARCHAR, 5, '0') AS unit_code, '预算单位' || i AS unit_name,
               'S' || lpad((i // 20)::VARCHAR, 3, '0') AS supervisor_code
        FROM range({n_units}) t(i) ORDER BY i""")
    # two registered accounts per unit: 0 zero balance, 1 basic
    write("accounts", f"""
        SELECT 'U' || lpad((i // 2)::VARCHAR, 5, '0') AS unit_code,
               '62' || lpad((i * 7919 + 1000003)::VARCHAR, 17, '0') AS account_no,
               '预算单位' || (i // 2) || CASE WHEN i % 2 = 0 THEN '零余额' ELSE '基本户' END AS account_name,
               '某银行某县支行' AS bank_name,
               CASE WHEN i % 2 = 0 THEN 'zero_balance' ELSE 'basic' END AS account_type,
               '2015-03-01' AS opened_on, '' AS closed_on
        FROM range({n_units * 2}) t(i) ORDER BY i""")
    write("budget", f"""
        SELECT 'U' || lpad((i // 20)::VARCHAR, 5, '0') AS unit_code,
               'ZB' || lpad(i::VARCHAR, 9, '0') AS budget_id, 'XM' || (i % 97) AS project_code,
               '项目' || (i % 97) AS project_name, '一般公共预算' AS fund_type,
               CASE WHEN {R('i', 1)} % 3 = 0 THEN '是' ELSE '否' END AS is_special,
               printf('%d.%02d', 20000 + {R('i', 2)} % 3000000, {R('i', 3)} % 100) AS amount,
               strftime(DATE '2022-01-01' + ({R('i', 4)} % 1000)::INTEGER, '%Y-%m-%d') AS issued_on,
               '' AS fiscal_year
        FROM range({n_budget}) t(i) ORDER BY i""")
    # payments: unit i % U; payees from a county-wide pool of 3,000 names
    write("payments", f"""
        WITH base AS (
            SELECT i, i % {n_units} AS u, {R('i', 10)} % 3000 AS payee,
                   -- paid on weekdays, as treasuries pay (SF12 finds the holidays among them)
                   DATE '2024-01-01' + ({R('i', 11)} % 366)::INTEGER
                       - CASE isodow(DATE '2024-01-01' + ({R('i', 11)} % 366)::INTEGER) WHEN 6 THEN 1 WHEN 7 THEN 2
                              ELSE 0 END AS paid,
                   1000 + {R('i', 12)} % 9000000 AS cents
            FROM range({n_pay}) t(i))
        SELECT 'U' || lpad(u::VARCHAR, 5, '0') AS unit_code, 'ZF' || lpad(i::VARCHAR, 10, '0') AS payment_id,
               'ZB' || lpad((u * 20 + {R('i', 13)} % 20)::VARCHAR, 9, '0') AS budget_id,
               '供应商' || payee || '有限公司' AS payee_name, '621' || lpad((payee * 104729)::VARCHAR, 16, '0') AS payee_account,
               CASE WHEN payee % 3 = 0 THEN '是' ELSE '' END AS payee_is_sme,
               'HT' || lpad((i // 3)::VARCHAR, 9, '0') AS contract_id,
               ['办公费', '印刷费', '会议费', '培训费', '维修(护)费', '委托业务费', '设备购置', '工程款'][1 + {R('i', 14)} % 8] AS expense_type,
               CASE WHEN i % 1000 = 17 THEN format('{{:,.2f}}', cents / 100.0)
                    ELSE printf('%d.%02d', cents // 100, cents % 100) END AS amount,
               strftime(paid - ({R('i', 15)} % 70)::INTEGER, '%Y-%m-%d') AS accepted_on,
               strftime(paid - ({R('i', 16)} % 14)::INTEGER, '%Y-%m-%d') AS requested_on,
               CASE WHEN i % 500 = 3 THEN '' WHEN i % 1000 = 29 THEN strftime(paid, '%Y/%-m/%-d')
                    ELSE strftime(paid, '%Y-%m-%d') END AS paid_on,
               CASE WHEN {R('i', 17)} % 4 = 0 THEN '60' ELSE '' END AS term_days,
               '支付' || ['货款', '服务费', '工程进度款', '会务费'][1 + {R('i', 18)} % 4] AS memo
        FROM base ORDER BY i""")
    # bank lines on each unit's basic account, a running balance that stays positive
    con.execute(f"""
        CREATE TEMP TABLE bank AS
        WITH base AS (
            SELECT i, i % {n_units} AS u, DATE '2024-01-01' + ((i // {n_units}) * 366 // greatest(1, {n_bank} // {n_units} + 1))::INTEGER AS d,
                   {R('i', 20)} % 10 < 4 AS is_in, 100 + {R('i', 21)} % 5000000 AS cents
            FROM range({n_bank}) t(i))
        SELECT i, u, d, is_in, cents,
               1000000000 + sum(CASE WHEN is_in THEN cents ELSE -cents END) OVER (PARTITION BY u ORDER BY i) AS bal
        FROM base""")
    write("bank_txns", f"""
        SELECT 'U' || lpad(u::VARCHAR, 5, '0') AS unit_code,
               '62' || lpad(((u * 2 + 1) * 7919 + 1000003)::VARCHAR, 17, '0') AS account_no,
               'LS' || lpad(i::VARCHAR, 11, '0') AS txn_id, strftime(d, '%Y%m%d') AS txn_date,
               CASE WHEN is_in THEN printf('%d.%02d', cents // 100, cents % 100) ELSE '' END AS inflow,
               CASE WHEN is_in THEN '' ELSE printf('%d.%02d', cents // 100, cents % 100) END AS outflow,
               printf('%d.%02d', bal // 100, bal % 100) AS balance,
               CASE WHEN is_in THEN '县财政国库集中支付中心' ELSE '供应商' || ({R('i', 22)} % 3000) || '有限公司' END
                   AS counterparty_name, '' AS counterparty_account,
               CASE WHEN NOT is_in AND {R('i', 23)} % 200 = 0 THEN '提取备用金' WHEN is_in THEN '资金划入' ELSE '支付货款' END AS memo
        FROM bank ORDER BY i""")
    # ledger: two lines a voucher; vouchers 0..n_bank-1 book the bank lines (95% of them, dated
    # 0-3 days later); the rest are 1011 <-> 7201 spending and 1218/2307 current accounts
    n_vouchers = n_led // 2
    con.execute(f"""
        CREATE TEMP TABLE vouchers AS
        SELECT v, b.u AS bu, b.d AS bd, b.is_in, b.cents AS bc,
               (v < {n_bank} AND {R('v', 30)} % 100 < 95) AS booked,
               v % {n_units} AS ou, DATE '2021-01-01' + ({R('v', 31)} % 1461)::INTEGER AS od,
               100 + {R('v', 32)} % 2000000 AS oc, {R('v', 33)} % 10 AS kind
        FROM range({n_vouchers}) t(v) LEFT JOIN bank b ON b.i = t.v""")
    write("ledger", f"""
        WITH lines AS (
            SELECT v, k AS line_no,
                   CASE WHEN booked THEN bu ELSE ou END AS u,
                   CASE WHEN booked THEN bd + ({R('v', 34)} % 4)::INTEGER ELSE od END AS d,
                   CASE WHEN booked THEN bc ELSE oc END AS cents,
                   CASE WHEN booked AND k = 1 THEN '1002'
                        WHEN booked THEN CASE WHEN is_in THEN '4001' ELSE '7201' END
                        WHEN kind < 7 THEN CASE WHEN k = 1 THEN '7201' ELSE '1011' END
                        WHEN kind < 9 THEN CASE WHEN k = 1 THEN '1218' ELSE '1002' END
                        ELSE CASE WHEN k = 1 THEN '1002' ELSE '2307' END END AS acct,
                   CASE WHEN booked THEN (k = 1) = is_in ELSE k = 1 END AS is_debit,
                   kind, booked, is_in
            FROM vouchers, range(1, 3) r(k))
        SELECT 'U' || lpad(u::VARCHAR, 5, '0') AS unit_code,
               CASE WHEN v % 1000 = 11 THEN strftime(d, '%Y/%-m/%-d') WHEN v = 123457 THEN 'N/A'
                    ELSE strftime(d, '%Y-%m-%d') END AS voucher_date,
               -- numbered per unit and year in date order, as books are (SF14 finds gaps in it)
               '记-' || year(d) || '-' || lpad(dense_rank() OVER (PARTITION BY u, year(d) ORDER BY d, v)::VARCHAR, 6, '0')
                   AS voucher_no, line_no, acct AS account_code,
               CASE acct WHEN '1002' THEN '银行存款' WHEN '1011' THEN '零余额账户用款额度' WHEN '1218' THEN '其他应收款'
                         WHEN '2307' THEN '其他应付款' WHEN '4001' THEN '财政拨款收入' ELSE '事业支出' END AS account_name,
               CASE WHEN booked THEN CASE WHEN is_in THEN '资金划入' ELSE '支付货款' END
                    WHEN kind >= 9 THEN '收到押金' WHEN kind >= 7 THEN '借支往来款' ELSE '日常公用支出' END AS summary,
               CASE WHEN is_debit THEN CASE WHEN v % 1000 = 13 THEN format('{{:,.2f}}', cents / 100.0)
                                            ELSE printf('%d.%02d', cents // 100, cents % 100) END ELSE '' END AS debit,
               CASE WHEN is_debit THEN '' ELSE printf('%d.%02d', cents // 100, cents % 100) END AS credit,
               CASE WHEN NOT booked AND kind >= 7 THEN '往来单位' || (v % 500) ELSE '' END AS counterparty,
               '' AS project_code
        FROM lines
        UNION ALL SELECT '', '合计', '', NULL, '', '', '', '', '', '', ''""")
    con.close()
    return {"units": n_units, "accounts": n_units * 2, "budget": n_budget, "payments": n_pay,
            "bank_txns": n_bank, "ledger": n_led}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--ledger-lines", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    counts = generate(a.out_dir, a.ledger_lines, a.seed)
    print(counts, f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
