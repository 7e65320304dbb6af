import Foundation

/// What the meter needs of a ledger: a place that shares budgets between
/// processes and remembers every call. `Ledger` (SQLite, one machine) is one;
/// a store on a server database shared by many hosts is another
/// implementation of this protocol, not a fork of the meter.
///
/// The rules every store keeps:
/// - `reserve` checks and takes a reservation in one step no other process
///   can interleave with; with `check` it refuses (`Ledger.WindowRefusal`)
///   when a counter cannot take the amount.
/// - `record` makes a settled call durable before it returns (a killed
///   process loses none) and releases its reservation.
/// - A read that fails throws: the meter never counts a failure as zero spend.
public protocol LedgerStore: AnyObject {
    /// Where the store lives (a path or a URL), for messages.
    var path: String { get }
    /// Problems found while opening that did not stop it, for the host to show.
    var warnings: [String] { get }

    /// Checks `amount` against each counter's limits (settled spend of every
    /// process plus their reservations) and reserves it against every counter
    /// in `covering`; returns the reservation's id and the counters' totals.
    func reserve(_ amount: Amounts, windows: [(key: String, limits: BudgetLimits)], covering: [String],
                 day: String, week: String, month: String, runID: String,
                 check: Bool) throws -> (id: Int64, totals: [String: Amounts])
    /// Records a settled call and releases its reservation.
    func record(_ call: Ledger.Call, releasing reservation: Int64?, cacheable: Bool) throws
    /// What a counter (`total`, `day:2026-11-29`, `agent:NAME` …) has settled.
    func windowTotal(_ window: String) throws -> Amounts
    /// Every counter whose key starts with `prefix` (`agent:` gives each
    /// agent's total since its reset), with what it has settled.
    func counterTotals(prefix: String) throws -> [String: Amounts]
    /// The calls of one run, in order (for `--resume`).
    func calls(ofRun runID: String) throws -> [Ledger.Call]
    /// An earlier answer to the same request, for the cache.
    func cachedCall(requestKey: String) throws -> Ledger.Call?
    /// Records an alert.
    func recordAlert(time: Date, runID: String, kind: String, scope: String, message: String) throws
    /// Records a completed task, and lists those of a kind (for forecasts).
    func recordTask(_ t: Ledger.TaskRecord) throws
    func tasks(kind: String) throws -> [Ledger.TaskRecord]
    /// The prompt-bound calibration of a backend and model, and storing one.
    func calibration(backend: String, model: String) throws -> InputBounds.Calibration?
    func saveCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date) throws
    /// A kept setting (`mode`), or nil.
    func setting(_ key: String) throws -> String?
    /// Limits set with `omega tokens budget`, which later runs obey.
    func budgetOverrides() throws -> [Ledger.BudgetOverride]
    /// A run's start and end, and a run by id (or unique prefix).
    func startRun(id: String, script: String, resumedFrom: String?, started: Date) throws
    func endRun(id: String, outcome: String, totals: Amounts, ended: Date) throws
    func run(_ id: String) throws -> Ledger.Run?
    /// Writes what is pending and closes the store.
    func close() throws
}

extension Ledger: LedgerStore {}
