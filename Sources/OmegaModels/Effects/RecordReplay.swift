import Foundation
import OmegaCore

/// Record and replay of model calls, as JSON Lines: one object per call with
/// the request's hash, the model, the prompt messages, the answer, its usage
/// and latency. `--record FILE` appends to a file; `--replay FILE` answers
/// from one with no network and no charge.
public enum RecordReplay {
    /// The hash that identifies a request in a recording: SHA-256 of the
    /// model, the messages, max-tokens, temperature, stop sequences and the
    /// sample number (what changes the answer), not of ids or tags.
    public static func hash(_ r: InferenceRequest) -> String {
        var object: [String: Any] = [
            "model": r.model, "max_tokens": r.maxTokens, "stop": r.stop, "sample": r.sample,
            "messages": r.messages.map { m -> [String: String] in
                var o = ["role": m.role, "content": m.content]
                if let n = m.name { o["name"] = n }
                return o
            },
        ]
        if let t = r.temperature { object["temperature"] = t }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Digest.sha256Hex([UInt8](data))
    }

    static func line(_ request: InferenceRequest, _ result: InferenceResult) -> Data {
        let object: [String: Any] = [
            "hash": hash(request), "model": request.model, "request_id": request.id,
            "prompt": request.messages.map { ["role": $0.role, "content": $0.content] },
            "answer": result.text, "finish_reason": result.finishReason, "answered_by": result.model,
            "usage": ["input_tokens": result.usage.inputTokens, "output_tokens": result.usage.outputTokens,
                      "cache_read_tokens": result.usage.cacheReadTokens, "cache_write_tokens": result.usage.cacheWriteTokens,
                      "source": result.usageSource.rawValue],
            "latency": result.latency, "backend": result.backend,
        ]
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        // A cassette is shared: no key goes into it, whatever the server echoed.
        data = Data(Secrets.scrub(String(decoding: data, as: UTF8.self)).utf8)
        data.append(0x0A)
        return data
    }
}

/// Passes calls to another backend and appends each answer to a recording.
public final class RecordingBackend: ModelBackend, @unchecked Sendable {
    /// The recorded backend's name.
    public var name: String { inner.name }
    let inner: ModelBackend
    let file: URL
    private let lock = NSLock()
    private var warned = false

    /// Records to `file` (created if missing, appended to otherwise).
    public init(_ inner: ModelBackend, file: URL) throws {
        self.inner = inner
        self.file = file
        if !FileManager.default.fileExists(atPath: file.path) {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw BackendError(.client, "cannot create the recording \(file.path)")
            }
        }
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        let result = try await inner.infer(request)
        let line = RecordReplay.line(request, result)
        lock.withLock {
            do {
                let handle = try FileHandle(forWritingTo: file)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: line)
            } catch {
                // The answer is the program's (and charged) either way; a
                // recording that stops growing is said once, not swallowed.
                if !warned {
                    warned = true
                    FileHandle.standardError.write(Data("omega: cannot append to the recording \(file.path): \(Interpreter.describeFileError(error)); later calls are not recorded\n".utf8))
                }
            }
        }
        return result
    }
}

/// Answers from a recording: deterministic, offline, uncharged. The n-th
/// identical request gets the n-th recorded answer (the last one repeats).
public final class ReplayBackend: ModelBackend, @unchecked Sendable {
    public let name = "replay"
    let file: URL
    private var answers: [String: [InferenceResult]] = [:]
    private var used: [String: Int] = [:]
    private let lock = NSLock()

    /// Reads `file`; errors name the file and the line.
    public init(file: URL) throws {
        self.file = file
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw BackendError(.client, "cannot read the replay file \(file.path)")
        }
        for (index, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let hash = o["hash"] as? String, let answer = o["answer"] as? String else {
                throw BackendError(.client, "\(file.path):\(index + 1): not a recorded call (needs hash and answer)")
            }
            let usage = o["usage"] as? [String: Any] ?? [:]
            let result = InferenceResult(
                text: answer, model: (o["answered_by"] as? String) ?? (o["model"] as? String) ?? "",
                finishReason: (o["finish_reason"] as? String) ?? "stop",
                usage: TokenUsage(inputTokens: usage["input_tokens"] as? Int ?? 0, outputTokens: usage["output_tokens"] as? Int ?? 0,
                                  cacheReadTokens: usage["cache_read_tokens"] as? Int ?? 0,
                                  cacheWriteTokens: usage["cache_write_tokens"] as? Int ?? 0),
                usageSource: UsageSource(rawValue: usage["source"] as? String ?? "") ?? .reported,
                cost: nil, latency: 0, backend: name, requestID: "")
            answers[hash, default: []].append(result)
        }
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        try lookUp(request)
    }

    /// A file needs no waiting: answered at once.
    public func answerNow(_ request: InferenceRequest) -> Result<InferenceResult, Error>? {
        Result { try lookUp(request) }
    }

    private func lookUp(_ request: InferenceRequest) throws -> InferenceResult {
        let hash = RecordReplay.hash(request)
        lock.lock()
        defer { lock.unlock() }
        guard let list = answers[hash], !list.isEmpty else {
            let prompt = request.messages.last?.content ?? ""
            let shown = prompt.count > 60 ? String(prompt.prefix(57)) + "..." : prompt
            throw BackendError(.notRecorded, "no recorded answer in \(file.path) for request \(hash.prefix(12)) "
                               + "(model \(request.model), prompt \(shown.debugDescription))")
        }
        let n = used[hash, default: 0]
        used[hash] = n + 1
        var result = list[min(n, list.count - 1)]
        result.requestID = request.id
        return result
    }
}
