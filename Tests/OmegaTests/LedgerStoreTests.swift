import Foundation
import Testing
@testable import OmegaCore
@testable import OmegaModels

/// The meter reaches its ledger only through `LedgerStore`: a store that is
/// not the SQLite class (here one that passes each call on to a real SQLite
/// ledger and notes it) gets every reservation, record and read.
@Suite struct LedgerStoreTests {
    final class NotingStore: LedgerStore {
        let inner: Ledger
        var log: [String] = []
        init(_ inner: Ledger) { self.inner = inner }
        var path: String { "noting:" + inner.path }
        var warnings: [String] { inner.warnings }
        func reserve(_ amount: Amounts, windows: [(key: String, limits: BudgetLimits)], covering: [String], day: String,
                     week: String, month: String, runID: String, check: Bool) throws -> (id: Int64, totals: [String: Amounts]) {
            log.append("reserve")
            return try inner.reserve(amount, windows: windows, covering: covering, day: day, week: week, month: month,
                                     runID: runID, check: check)
        }
        func record(_ call: Ledger.Call, releasing reservation: Int64?, cacheable: Bool) throws {
            log.append("record")
            try inner.record(call, releasing: reservation, cacheable: cacheable)
        }
        func windowTotal(_ window: String) throws -> Amounts { log.append("total"); return try inner.windowTotal(window) }
        func counterTotals(prefix: String) throws -> [String: Amounts] { try inner.counterTotals(prefix: prefix) }
        func calls(ofRun runID: String) throws -> [Ledger.Call] { try inner.calls(ofRun: runID) }
        func cachedCall(requestKey: String) throws -> Ledger.Call? { try inner.cachedCall(requestKey: requestKey) }
        func recordAlert(time: Date, runID: String, kind: String, scope: String, message: String) throws {
            try inner.recordAlert(time: time, runID: runID, kind: kind, scope: scope, message: message)
        }
        func recordTask(_ t: Ledger.TaskRecord) throws { try inner.recordTask(t) }
        func tasks(kind: String) throws -> [Ledger.TaskRecord] { try inner.tasks(kind: kind) }
        func calibration(backend: String, model: String) throws -> InputBounds.Calibration? {
            try inner.calibration(backend: backend, model: model)
        }
        func saveCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date) throws {
            try inner.saveCalibration(c, backend: backend, model: model, at: date)
        }
        func setting(_ key: String) throws -> String? { try inner.setting(key) }
        func budgetOverrides() throws -> [Ledger.BudgetOverride] { try inner.budgetOverrides() }
        func startRun(id: String, script: String, resumedFrom: String?, started: Date) throws {
            try inner.startRun(id: id, script: script, resumedFrom: resumedFrom, started: started)
        }
        func endRun(id: String, outcome: String, totals: Amounts, ended: Date) throws {
            try inner.endRun(id: id, outcome: outcome, totals: totals, ended: ended)
        }
        func run(_ id: String) throws -> Ledger.Run? { try inner.run(id) }
        func close() throws { try inner.close() }
    }

    @Test func theMeterUsesAnyStore() throws {
        let store = NotingStore(try Ledger(path: ":memory:"))
        var policy = BudgetPolicy()
        policy.total = [.tokens: 400]
        var library = ModelLibrary()
        library.meter = Meter(policy: policy, ledger: store, report: { _ in })
        let omega = try Interpreter(models: library)
        let refused = try omega.evaluate("""
            (let loop ((n 0))
              (if (guard (e ((budget-exceeded? e) #f)) (effect infer.op "tell me more" 'max-tokens 60) #t)
                  (loop (+ n 1))
                  n))
            """)
        let answered = try #require(omega.int(refused))
        #expect(answered >= 1 && answered < 10, "\(answered) calls fit in 400 tokens")
        #expect(store.log.filter { $0 == "reserve" }.count == answered + 1)   // the last one was refused
        #expect(store.log.filter { $0 == "record" }.count == answered)
        // What the store recorded is what the meter charged, and within the total.
        let total = try store.windowTotal("total")
        #expect(total.tokens == omega.meter.runTotals.tokens && total.tokens <= 400)
    }
}
