import Foundation
import Synchronization
import OmegaCore

/// How many requests may be open to one server at once, and the queue of
/// calls waiting for one of those connections.
///
/// AsyncHTTPClient queues a request that finds every pooled connection busy,
/// but only for its connect timeout (3 s): against a server that answers one
/// request at a time, most of 16 calls in flight then failed with
/// `getConnectionFromPoolTimeout`. A call waiting for a connection is waiting
/// its turn, so Omega keeps that queue itself: first come, first served,
/// within the call's own timeout, and an error that says it waited.
final class ConnectionSlots: Sendable {
    /// One queue per server (`scheme://host:port`) and limit.
    private static let byServer = Mutex<[String: ConnectionSlots]>([:])

    /// The slots for `server`; the first backend to ask sets the limit.
    static func forServer(_ server: String, limit: Int) -> ConnectionSlots {
        byServer.withLock { table in
            let key = "\(server)#\(limit)"
            if let s = table[key] { return s }
            let s = ConnectionSlots(limit: limit)
            table[key] = s
            return s
        }
    }

    let limit: Int
    /// Connections open, and the tickets waiting, first come first served.
    private struct State {
        var inUse = 0
        var queue: [Int] = []
        var nextTicket = 0
    }
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    /// Waits for a free connection until `deadline`; false if none came.
    /// Throws `CancellationError` when the call is cancelled while waiting.
    func acquire(until deadline: Date) async throws -> Bool {
        let ticket = state.withLock { s -> Int in
            defer { s.nextTicket += 1 }
            s.queue.append(s.nextTicket)
            return s.nextTicket
        }
        defer { state.withLock { s in s.queue.removeAll { $0 == ticket } } }
        while true {
            if tryTake(ticket) { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    /// Takes a connection if one is free and `ticket` is among the first in line.
    private func tryTake(_ ticket: Int) -> Bool {
        state.withLock { s in
            guard s.inUse < limit, let position = s.queue.firstIndex(of: ticket), position < limit - s.inUse else { return false }
            s.inUse += 1
            return true
        }
    }

    /// Gives a connection back.
    func release() {
        state.withLock { s in s.inUse = max(0, s.inUse - 1) }
    }

    /// Requests open now (for tests).
    var open: Int { state.withLock { $0.inUse } }
}
