import Foundation

/// Leases on the reservations of a shared ledger.
///
/// **The rule.** Every reservation carries `lease_until`; the store that
/// took it renews all of its own every third of the lease while it lives.
/// A reservation whose lease has run out belongs to a host that died or
/// lost the database for longer than the lease. It is not simply deleted —
/// that host may have sent the call, and the provider bills it whether or
/// not anyone settles it — so its **worst case is assumed spent**: in one
/// transaction the reservation is removed, its worst case is added to every
/// counter it covered, and a call row (`outcome` `lease-expired`,
/// `usage_source` `worst-case`) records the charge, noted in
/// `lease_expiries`. The budget is then no longer blocked by a reservation
/// that will never settle, and never overspent by a call that was made.
///
/// **A late settle** (the host was only cut off): its reservation is gone,
/// so `record` finds the lease's charge, deletes that row and takes its
/// worst case back off the counters in the same transaction that adds the
/// real usage. A call is one row either way, charged at its real usage once
/// its holder settles it, and at its worst case until then.
///
/// Expired leases are looked for before a reservation, at most every half
/// lease per store; rows being swept by another host are skipped
/// (`SKIP LOCKED`).
extension PostgresLedger {
    /// Renews this store's leases every third of the lease, on a thread of
    /// its own, until `close`.
    func startRenewing() {
        let interval = lease / 3
        let t = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                guard let self, self.renewLeases() else { return }
            }
        }
        t.name = "omega.ledger.leases"
        t.start()
    }

    /// Pushes the lease of every reservation this store holds; false once
    /// the store is closed. A failure is not fatal: the next renewal tries
    /// again, and a lease that runs out meanwhile is charged at its worst
    /// case and reconciled when the call settles.
    func renewLeases() -> Bool {
        locked {
            guard !closed else { return false }
            guard held > 0 else { return true }
            _ = try? db.run("UPDATE reservations SET lease_until = ? WHERE owner = ?",
                            [.double(Date().timeIntervalSince1970 + lease), .text(owner)])
            return true
        }
    }

    /// Charges expired reservations at their worst case (see the rule above).
    /// Returns how many were charged.
    @discardableResult
    func sweepExpiredLeases(force: Bool = false) throws -> Int {
        let now = Date().timeIntervalSince1970
        guard force || now - lastSweep >= lease / 2 else { return 0 }
        lastSweep = now
        return try db.transaction {
            struct Expired { var id: Int64; var runID: String; var worst: Amounts; var counters: [String]; var created: Double }
            var expired: [Expired] = []
            try db.query("""
                SELECT id, run_id, input_tokens, output_tokens, cost_pd, counters, created FROM reservations
                WHERE lease_until < ? ORDER BY id FOR UPDATE SKIP LOCKED
                """, [.double(now)]) { r in
                expired.append(Expired(id: r.int(0), runID: r.text(1) ?? "",
                                       worst: Amounts(inputTokens: r.int(2), outputTokens: r.int(3), picodollars: r.int(4), calls: 1),
                                       counters: (r.text(5) ?? "").split(separator: "\n").map(String.init),
                                       created: r.double(6)))
            }
            guard !expired.isEmpty else { return 0 }
            var deltas: [String: Amounts] = [:]
            for e in expired {
                try db.run("DELETE FROM reservations WHERE id = ?", [.int(e.id)])
                try db.insertCall(PostgresLedger.leaseCharge(e.id, runID: e.runID, worst: e.worst, counters: e.counters,
                                                             created: e.created, now: now))
                try db.run("INSERT INTO lease_expiries(reservation_id, call_id, expired) VALUES (?, currval('calls_id_seq'), ?)",
                           [.int(e.id), .double(now)])
                for k in e.counters { deltas[k, default: Amounts()] += e.worst }
            }
            try addToCounters(deltas)
            return expired.count
        }
    }

    /// The call row that stands for an expired reservation: its worst case,
    /// under the model, agent, workflow and shared budgets its counters name.
    static func leaseCharge(_ id: Int64, runID: String, worst: Amounts, counters: [String], created: Double,
                            now: Double) -> Ledger.Call {
        func name(_ kind: String) -> String? {
            counters.first { $0.hasPrefix(kind + ":") }.map { String($0.dropFirst(kind.count + 1)) }
        }
        return Ledger.Call(
            time: Date(timeIntervalSince1970: now), runID: runID, sequence: -1, script: "", model: name("model") ?? "",
            backend: "", agent: name("agent"), workflow: name("workflow"), operation: "infer",
            usage: TokenUsage(inputTokens: Int(worst.inputTokens), outputTokens: Int(worst.outputTokens)),
            cost: Money(picodollars: worst.picodollars), latency: now - created, cacheHit: false, outcome: "lease-expired",
            usageSource: "worst-case", requestID: "reservation-\(id)", requestKey: "", answer: nil, finishReason: nil,
            day: name("day") ?? "", week: name("week") ?? "", month: name("month") ?? "", charged: worst, servedModel: nil,
            shared: counters.filter { $0.hasPrefix("shared:") }.map { String($0.dropFirst("shared:".count)) })
    }

    /// For a settle whose reservation's lease expired: removes the lease's
    /// worst-case charge and returns it negated per counter (nothing when
    /// the reservation was never charged).
    func withdrawExpiredCharge(of reservation: Int64) throws -> [String: Amounts] {
        var callID: Int64?
        try db.query("DELETE FROM lease_expiries WHERE reservation_id = ? RETURNING call_id", [.int(reservation)]) { r in
            callID = r.int(0)
        }
        guard let callID, let charge = try db.selectCalls("WHERE id = ?", [.int(callID)]).first else { return [:] }
        try db.run("DELETE FROM calls WHERE id = ?", [.int(callID)])
        var deltas: [String: Amounts] = [:]
        for k in BudgetCounter.keys(of: charge) { deltas[k] = Amounts() - charge.charged }
        return deltas
    }
}
