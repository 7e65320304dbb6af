import Foundation
import OmegaCore

/// What the meter decided about a request.
public enum Admission {
    /// Send it; the reservation comes back to `settle`.
    case send(AnyObject?)
    /// Send it, and let later identical requests (the same `key`) wait for
    /// its answer instead of being sent (`follow`).
    case sendShared(AnyObject?, key: String)
    /// Do not send: this answer (a cache hit, a resumed call) stands in for it.
    case answer(InferenceResult, AnyObject?)
    /// Do not send: an identical request sent with this key is in flight;
    /// its answer (free, as a cache hit) stands in for this one.
    case follow(key: String, AnyObject?)
}

/// The meter's seam: every request that reaches a backend passes `admit`
/// before it is sent and `settle` after its reply (or failure). Both run on
/// the interpreter's thread. `admit` may change the request (a cheaper
/// model, fewer output tokens, a shorter timeout) and throws to refuse it.
public protocol EffectMeter: AnyObject {
    /// Reserves the request's worst case, or answers it without sending.
    func admit(_ request: inout InferenceRequest, backend: String) throws -> Admission
    /// Replaces the reservation with what the call really used (or releases
    /// it), and returns the outcome as the program sees it (a result whose
    /// usage was not reported carries the bounds the meter charged).
    func settle(_ request: InferenceRequest, reservation: AnyObject?,
                outcome: Result<InferenceResult, Error>) -> Result<InferenceResult, Error>
}

/// Sends model calls to the backend off the interpreter's thread and hands
/// the replies back, so that several can be in flight while Scheme code stays
/// single-threaded.
///
/// A call is a *ticket*: `submit` starts it and returns at once; `wait`
/// blocks until one of some tickets is done (or the interpreter is
/// interrupted, which cancels every call in flight); `take` gives the result.
public final class EffectEngine: @unchecked Sendable {
    /// Where calls go.
    public var backend: ModelBackend
    /// Charges calls (see `Meter`); nil: calls are not metered.
    public var meter: EffectMeter?

    private let condition = NSCondition()
    private var nextTicket = 1
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var done: [Int: Result<InferenceResult, Error>] = [:]
    private var submitted: [Int: (request: InferenceRequest, reservation: AnyObject?)] = [:]
    /// Calls in flight that identical requests may wait for, by key.
    private var leaders: [String: Int] = [:]
    private var leaderKeys: [Int: String] = [:]
    /// Tickets waiting for a leader's answer.
    private var followers: [Int: [Int]] = [:]

    /// An engine sending calls to `backend` (a meter is set by the model runtime).
    public init(backend: ModelBackend) {
        self.backend = backend
    }

    /// Calls started and not yet taken.
    public var inFlight: Int {
        condition.lock()
        defer { condition.unlock() }
        return submitted.count
    }

    /// Meters and starts `request`; returns its ticket. Throws what the meter
    /// throws (the request is then not sent).
    public func submit(_ request: InferenceRequest) throws -> Int {
        var request = request
        let backend = self.backend
        let admission = try meter?.admit(&request, backend: backend.name) ?? .send(nil)
        condition.lock()
        let ticket = nextTicket
        nextTicket += 1
        switch admission {
        case .send(let reservation), .sendShared(let reservation, _):
            submitted[ticket] = (request, reservation)
            if case .sendShared(_, let key) = admission {
                leaders[key] = ticket
                leaderKeys[ticket] = key
            }
            if let now = backend.answerNow(request) {
                done[ticket] = now
                condition.unlock()
                return ticket
            }
        case .answer(let result, let reservation):
            submitted[ticket] = (request, reservation)
            done[ticket] = .success(result)
            condition.unlock()
            return ticket
        case .follow(let key, let reservation):
            submitted[ticket] = (request, reservation)
            if let leader = leaders[key] {
                if let outcome = done[leader] {
                    done[ticket] = shared(outcome, for: request)
                } else {
                    followers[leader, default: []].append(ticket)
                }
            } else {
                done[ticket] = .failure(BackendError(.cancelled, "the identical call this one waited for was abandoned"))
            }
            condition.unlock()
            return ticket
        }
        condition.unlock()
        let sent = request
        let task = Task(executorPreference: EffectExecutor.shared) { [weak self] in
            let outcome: Result<InferenceResult, Error>
            do {
                // A little grace, so a backend that keeps its own deadline
                // (HTTP: waiting for a connection, then the answer) reports
                // why it ran out, and this general timeout is the backstop.
                var result = try await EffectEngine.withTimeout(sent.timeout + 0.5) { try await backend.infer(sent) }
                // What a server sends reaches the program, the meter and the
                // ledger without any key it echoed.
                result.text = Secrets.scrub(result.text)
                result.model = Secrets.scrub(result.model)
                result.finishReason = Secrets.scrub(result.finishReason)
                outcome = .success(result)
            } catch is CancellationError {
                outcome = .failure(BackendError(.cancelled, "the call was cancelled"))
            } catch {
                outcome = .failure(error)
            }
            self?.finish(ticket, outcome)
        }
        condition.lock()
        if done[ticket] == nil { tasks[ticket] = task }
        condition.unlock()
        return ticket
    }

    private func finish(_ ticket: Int, _ outcome: Result<InferenceResult, Error>) {
        condition.lock()
        done[ticket] = outcome
        tasks[ticket] = nil
        answerFollowers(of: ticket, outcome)
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until one of `tickets` is done and returns it. Every 50 ms it
    /// asks `interrupted`; when that says yes, every call in flight is
    /// cancelled and `EffectEngine.Interrupted` is thrown.
    public func wait(for tickets: [Int], interrupted: () -> Bool) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let t = tickets.first(where: { done[$0] != nil }) { return t }
            guard tickets.contains(where: { submitted[$0] != nil }) else { throw UnknownTicket() }
            if interrupted() {
                condition.unlock()
                cancelAll()
                condition.lock()
                throw Interrupted()
            }
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
    }

    /// Gives the requests waiting for `leader` its outcome (lock held).
    private func answerFollowers(of leader: Int, _ outcome: Result<InferenceResult, Error>) {
        for f in followers.removeValue(forKey: leader) ?? [] {
            if let request = submitted[f]?.request { done[f] = shared(outcome, for: request) }
        }
    }

    /// A leader's outcome as a follower gets it: the same answer, free.
    private func shared(_ outcome: Result<InferenceResult, Error>, for request: InferenceRequest) -> Result<InferenceResult, Error> {
        guard case .success(var r) = outcome else { return outcome }
        r.backend = "cache"
        r.cost = .zero
        r.requestID = request.id
        return .success(r)
    }

    /// The outcome of a finished ticket, settled with the meter. Each ticket
    /// can be taken once.
    public func take(_ ticket: Int) -> Result<InferenceResult, Error>? {
        condition.lock()
        guard let outcome = done.removeValue(forKey: ticket), let entry = submitted.removeValue(forKey: ticket) else {
            condition.unlock()
            return nil
        }
        if let key = leaderKeys.removeValue(forKey: ticket), leaders[key] == ticket {
            leaders[key] = nil
            answerFollowers(of: ticket, outcome)
        }
        condition.unlock()
        return meter?.settle(entry.request, reservation: entry.reservation, outcome: outcome) ?? outcome
    }

    /// The request behind a ticket not yet taken.
    public func request(for ticket: Int) -> InferenceRequest? {
        condition.lock()
        defer { condition.unlock() }
        return submitted[ticket]?.request
    }

    /// Cancels `tickets`, waits for them to end, and takes them (so the meter
    /// settles them). For a scope that is left with calls still in flight.
    /// Returns the answers that had arrived (they were charged).
    @discardableResult
    public func drain(_ tickets: [Int]) -> [InferenceResult] {
        var answered: [InferenceResult] = []
        condition.lock()
        let running = tickets.compactMap { tasks[$0] }
        condition.unlock()
        for t in running { t.cancel() }
        for t in tickets {
            condition.lock()
            while submitted[t] != nil && done[t] == nil { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
            condition.unlock()
            if case .success(let r)? = take(t) { answered.append(r) }
        }
        return answered
    }

    /// Cancels, waits for and settles every call not yet taken.
    public func drainAll() {
        condition.lock()
        let tickets = Array(submitted.keys).sorted()
        condition.unlock()
        if !tickets.isEmpty { drain(tickets) }
    }

    /// Cancels every call in flight; their tickets finish with a `cancelled` error.
    public func cancelAll() {
        condition.lock()
        let running = Array(tasks.values)
        condition.unlock()
        for t in running { t.cancel() }
    }

    /// Thrown by `wait` when the interpreter was interrupted.
    public struct Interrupted: Error {}
    /// Thrown by `wait` for tickets that were never submitted or already taken.
    public struct UnknownTicket: Error {}

    /// Runs `body`, failing with a timeout error after `seconds`.
    static func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: CheckedNumber.sleepNanoseconds(max(seconds, 0.001)))
                throw BackendError(.timeout, "no answer within \(seconds.formatted()) s")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw BackendError(.cancelled, "the call was cancelled") }
            return first
        }
    }
}

/// The threads model calls run on. Not Swift's cooperative pool: `wait`
/// blocks its caller, and a host that calls the interpreter from async code
/// would otherwise block the very pool threads the calls need to finish.
final class EffectExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = EffectExecutor()
    private let queue = DispatchQueue(label: "omega.effects", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}

extension Double {
    /// `2`, `0.5`: the shortest form, for messages.
    func formatted() -> String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
