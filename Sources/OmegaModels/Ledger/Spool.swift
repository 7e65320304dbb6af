import Foundation
import OmegaCore

/// The ledger's write-ahead spool: one append-only file per process, one
/// line per settled call.
///
/// Why: an SQLite commit per call costs ~40–90 µs here, more than the rest
/// of a simulated call. A `write(2)` of one line costs a few µs and, once it
/// returns, the line survives the process being killed (it is in the kernel's
/// page cache). So a settled call is *durable* when its line is written, and
/// the spool is moved into the database in batches; a process that was
/// killed leaves its spool behind, and the next process to open the ledger
/// moves the rest in (`Ledger.recoverSpools`). Progress is a byte offset kept
/// in the database in the same transaction as the rows, so nothing is
/// ingested twice.
final class SpoolFile {
    let path: String
    private let fd: Int32
    /// Bytes written so far (the offset after the last line).
    private(set) var size: Int64 = 0

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError("cannot create the ledger's spool \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Appends one line (with its newline) in a single write.
    func append(_ line: [UInt8]) throws {
        var bytes = line
        bytes.append(0x0A)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LedgerError("cannot write the ledger's spool \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
        size += Int64(bytes.count)
    }

    /// The complete lines of a spool file from `offset`, each with the offset after it.
    static func lines(of path: String, from offset: Int64) -> [(line: String, end: Int64)] {
        guard let data = FileManager.default.contents(atPath: path), Int64(data.count) > offset else { return [] }
        var result: [(String, Int64)] = []
        var start = Int(offset)
        let bytes = [UInt8](data)
        for i in start..<bytes.count where bytes[i] == 0x0A {
            result.append((String(decoding: bytes[start..<i], as: UTF8.self), Int64(i + 1)))
            start = i + 1
        }
        return result   // a last line without its newline was cut by a crash: not a settled call
    }
}

/// One spooled call: the row, the reservation to drop, and whether the
/// cache should answer from it.
struct SpooledCall {
    var call: Ledger.Call
    var reservation: Int64?
    var cacheable: Bool
    /// The spool's size after this call's line (what "moved in up to here" records).
    var spoolEnd: Int64 = 0
}

/// Calls as spool lines: tab-separated fields, `\t \n \r \\` escaped, `\N` for none.
enum SpoolLine {
    /// The line's bytes, without its newline. Built byte by byte: this runs
    /// once per settled call.
    static func encode(_ s: SpooledCall) -> [UInt8] {
        let c = s.call
        var out: [UInt8] = []
        out.reserveCapacity(320 + (c.answer?.utf8.count ?? 0))
        func text(_ v: String?) {
            out.append(0x09)
            guard let v else { out.append(0x5C); out.append(0x4E); return }
            for b in v.utf8 {
                switch b {
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                default: out.append(b)
                }
            }
        }
        func int<I: BinaryInteger>(_ v: I?) {
            out.append(0x09)
            guard let v else { out.append(0x5C); out.append(0x4E); return }
            var n = Int64(v)
            if n < 0 {
                out.append(0x2D)
                if n == .min { out.append(contentsOf: String(n).utf8.dropFirst()); return }
                n = -n
            }
            // Digits in reverse, then flipped in place: no String per number.
            let start = out.count
            repeat {
                out.append(0x30 + UInt8(n % 10))
                n /= 10
            } while n > 0
            out[start...].reverse()
        }
        func real(_ v: Double) {
            out.append(0x09)
            out.append(contentsOf: String(v).utf8)
        }
        out.append(0x31)   // format version 1
        real(c.time.timeIntervalSince1970); text(c.runID); int(c.sequence); text(c.script); text(c.model)
        text(c.backend); text(c.agent); text(c.workflow); text(c.operation); int(c.usage.inputTokens)
        int(c.usage.outputTokens); int(c.usage.cacheReadTokens); int(c.usage.cacheWriteTokens)
        int(c.usage.reasoningTokens); int(c.cost?.picodollars); real(c.latency)
        int(c.cacheHit ? 1 : 0); text(c.outcome); text(c.usageSource); text(c.requestID); text(c.requestKey)
        text(c.answer); text(c.finishReason); text(c.day); text(c.week); text(c.month); int(c.charged.inputTokens)
        int(c.charged.outputTokens); int(c.charged.picodollars); int(c.charged.calls)
        int(s.reservation); int(s.cacheable ? 1 : 0); text(c.servedModel)
        text(c.shared.isEmpty ? nil : c.shared.joined(separator: "\n"))
        return out
    }

    /// The call a line holds; nil for a line this version cannot read.
    static func decode(_ line: String) -> SpooledCall? {
        let raw = line.split(separator: "\t", omittingEmptySubsequences: false)
        // 33 fields before the served model was added, 34 since, 35 with shared budgets.
        guard (33...35).contains(raw.count), raw[0] == "1" else { return nil }
        func text(_ i: Int) -> String? {
            let f = raw[i]
            if f == "\\N" { return nil }
            guard f.contains("\\") else { return String(f) }
            var out = "", escaped = false
            for ch in f {
                if escaped {
                    switch ch {
                    case "t": out += "\t"
                    case "n": out += "\n"
                    case "r": out += "\r"
                    default: out.append(ch)
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    out.append(ch)
                }
            }
            return out
        }
        func int(_ i: Int) -> Int64? { Int64(raw[i]) }
        guard let time = Double(raw[1]), time.isFinite, let seq = int(3), seq >= 0, let latency = Double(raw[16]),
              latency.isFinite,
              let i10 = int(10), let i11 = int(11), let i12 = int(12), let i13 = int(13), let i14 = int(14),
              let c27 = int(27), let c28 = int(28), let c29 = int(29), let c30 = int(30) else { return nil }
        // Counts no call can have (a damaged or forged line) never reach the totals.
        let tokens: ClosedRange<Int64> = 0...100_000_000, money: ClosedRange<Int64> = 0...1_000_000_000_000_000_000
        guard [i10, i11, i12, i13, i14, c27, c28].allSatisfy(tokens.contains), money.contains(c29), (0...1).contains(c30),
              int(15).map(money.contains) ?? true else { return nil }
        let call = Ledger.Call(
            time: Date(timeIntervalSince1970: time), runID: text(2) ?? "", sequence: Int(seq), script: text(4) ?? "",
            model: text(5) ?? "", backend: text(6) ?? "", agent: text(7), workflow: text(8), operation: text(9) ?? "",
            usage: TokenUsage(inputTokens: Int(i10), outputTokens: Int(i11), cacheReadTokens: Int(i12),
                              cacheWriteTokens: Int(i13), reasoningTokens: Int(i14)),
            cost: int(15).map { Money(picodollars: $0) }, latency: latency, cacheHit: raw[17] == "1",
            outcome: text(18) ?? "", usageSource: text(19) ?? "", requestID: text(20) ?? "", requestKey: text(21) ?? "",
            answer: text(22), finishReason: text(23), day: text(24) ?? "", week: text(25) ?? "", month: text(26) ?? "",
            charged: Amounts(inputTokens: c27, outputTokens: c28, picodollars: c29, calls: c30))
        var withServed = call
        if raw.count >= 34 { withServed.servedModel = text(33) }
        if raw.count == 35 { withServed.shared = (text(34) ?? "").split(separator: "\n").map(String.init) }
        return SpooledCall(call: withServed, reservation: int(31), cacheable: raw[32] == "1")
    }
}
