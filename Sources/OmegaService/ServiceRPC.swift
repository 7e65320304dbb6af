import Foundation
import OmegaModels

/// `POST /rpc`: JSON-RPC 2.0 with seed 002's methods and reservations.
///
/// | method | params | result |
/// |---|---|---|
/// | `tokens.reportUsage` | `agent_id`, `model`, `prompt_tokens`, `completion_tokens` | `charged` |
/// | `tokens.getBudget` | `agent_id`?, `model`? | totals and every scope |
///
/// Every method also takes `shared_budgets` (names of `[budget.shared]`
/// budgets the call is charged to, besides the key's own).
/// | `tokens.reserve` | `model`, `prompt_tokens` or `messages`, `max_tokens` | `reservation_id`, `reserved` |
/// | `tokens.settle` | `reservation_id`, `prompt_tokens`, `completion_tokens` | `charged` |
/// | `tokens.release` | `reservation_id` | `released` |
///
/// A refusal is error `-32001` with seed 002's text (`Error: Agent
/// code-reviewer would exceed limit of 100000 tokens (current: 98000,
/// requested: 5000)`) and the figures in `data`.
public struct ServiceRPC: Sendable {
    let service: BudgetService

    /// Methods on `service`.
    public init(service: BudgetService) { self.service = service }

    /// Answers a request body (one call or a batch); nil when every call
    /// was a notification (no `id`), which gets no answer.
    public func handle(_ body: Data, caller: BudgetService.Caller) async -> JSONValue? {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return ServiceRPC.failure(id: .null, code: -32700, message: "parse error: the body is not JSON")
        }
        if case .array(let calls) = json {
            guard !calls.isEmpty else { return ServiceRPC.failure(id: .null, code: -32600, message: "invalid request: an empty batch") }
            var answers: [JSONValue] = []
            for c in calls.prefix(100) {
                if let a = await call(c, caller: caller) { answers.append(a) }
            }
            return answers.isEmpty ? nil : .array(answers)
        }
        return await call(json, caller: caller)
    }

    private func call(_ json: JSONValue, caller: BudgetService.Caller) async -> JSONValue? {
        guard case .object(let o) = json, o["jsonrpc"] == .string("2.0"), case .string(let method)? = o["method"] else {
            return ServiceRPC.failure(id: .null, code: -32600, message: "invalid request: expected {\"jsonrpc\": \"2.0\", \"method\": …, \"id\": …}")
        }
        let id = o["id"]
        let params: [String: JSONValue]
        switch o["params"] {
        case nil, .null?: params = [:]
        case .object(let p)?: params = p
        default:
            return id.map { ServiceRPC.failure(id: $0, code: -32602, message: "params must be an object (named parameters)") }
        }
        do {
            let result = try await dispatch(method, Params(values: params), caller: caller)
            return id.map { .object(["jsonrpc": .string("2.0"), "id": $0, "result": result]) }
        } catch {
            let e = ServiceError.from(error)
            return id.map { ServiceRPC.failure(id: $0, code: e.code, message: e.message, data: e.data) }
        }
    }

    private func dispatch(_ method: String, _ p: Params, caller: BudgetService.Caller) async throws -> JSONValue {
        switch method {
        case "tokens.reportUsage":
            let c = try p.caller(caller)
            let charged = try await service.reportUsage(model: try p.string("model"), promptTokens: try p.count("prompt_tokens", required: true) ?? 0,
                                                        completionTokens: try p.count("completion_tokens", required: true) ?? 0, caller: c)
            return .object(["charged": ServiceRPC.amounts(charged)])
        case "tokens.getBudget":
            return try await service.budget(model: try p.string("model"), caller: try p.caller(caller))
        case "tokens.reserve":
            let messages = try p.messages()
            let prompt = try p.count("prompt_tokens", required: false)
            guard prompt != nil || !messages.isEmpty else {
                throw ServiceError.invalidParams("tokens.reserve needs prompt_tokens (a count) or messages (to count)")
            }
            let r = try await service.reserve(model: try p.string("model"), messages: messages, promptTokens: prompt,
                                              maxTokens: try p.count("max_tokens", required: true), caller: try p.caller(caller))
            return .object(["reservation_id": .string(r.id), "model": .string(r.model), "reserved": ServiceRPC.amounts(r.worst),
                            "expires_in": .integer(Int(service.reservationTimeout))])
        case "tokens.settle":
            guard let id = try p.string("reservation_id") else { throw ServiceError.invalidParams("reservation_id is required") }
            let usage = TokenUsage(inputTokens: try p.count("prompt_tokens", required: true) ?? 0,
                                   outputTokens: try p.count("completion_tokens", required: true) ?? 0)
            let charged = try await service.settle(id: id, usage: usage, model: try p.string("model"), caller: caller)
            return .object(["charged": ServiceRPC.amounts(charged)])
        case "tokens.release":
            guard let id = try p.string("reservation_id") else { throw ServiceError.invalidParams("reservation_id is required") }
            try await service.release(id: id, caller: caller)
            return .object(["released": .string(id)])
        default:
            throw ServiceError(code: -32601, status: 404, kind: "invalid_request_error",
                               message: "method not found: \(method) (known: tokens.reportUsage, tokens.getBudget, tokens.reserve, tokens.settle, tokens.release)")
        }
    }

    static func amounts(_ a: Amounts) -> JSONValue {
        .object(["prompt_tokens": .integer(Int(a.inputTokens)), "completion_tokens": .integer(Int(a.outputTokens)),
                 "total_tokens": .integer(Int(a.tokens)), "cost_usd": .string(BudgetService.dollars(a.picodollars))])
    }

    static func failure(id: JSONValue, code: Int, message: String, data: JSONValue? = nil) -> JSONValue {
        var error: [String: JSONValue] = ["code": .integer(code), "message": .string(message)]
        if let data { error["data"] = data }
        return .object(["jsonrpc": .string("2.0"), "id": id, "error": .object(error)])
    }

    /// Named parameters, read with errors that name the parameter.
    struct Params {
        var values: [String: JSONValue]

        func string(_ name: String) throws -> String? {
            switch values[name] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw ServiceError.invalidParams("\(name) must be a string")
            }
        }

        func count(_ name: String, required: Bool) throws -> Int? {
            switch values[name] {
            case nil, .null?:
                if required { throw ServiceError.invalidParams("\(name) is required (a whole number of tokens)") }
                return nil
            case .integer(let n)? where n >= 0: return n
            case .number(let d)? where d >= 0 && d == d.rounded() && d < 1e15: return Int(d)
            default: throw ServiceError.invalidParams("\(name) must be a whole number of tokens, 0 or more")
            }
        }

        /// `messages` as OpenAI writes them (`[{"role": "user", "content": "…"}]`).
        func messages() throws -> [ChatMessage] {
            guard let v = values["messages"], v != .null else { return [] }
            return try ChatWire.messages(v)
        }

        /// The caller, with `agent_id`/`workflow` from the params when the
        /// key does not fix them; a key cannot charge another agent.
        func caller(_ base: BudgetService.Caller) throws -> BudgetService.Caller {
            var c = base
            if let agent = try string("agent_id") {
                if let own = base.agent, own != agent {
                    throw ServiceError(code: -32602, status: 403, kind: "permission_error",
                                       message: "this key charges agent \(own); it cannot report for agent \(agent)")
                }
                c.agent = agent
            }
            // Shared budgets add to the key's: a client may charge more budgets, never fewer.
            switch values["shared_budgets"] {
            case nil, .null?: break
            case .array(let names)?:
                for n in names {
                    guard case .string(let s) = n, !s.isEmpty else { throw ServiceError.invalidParams("shared_budgets must be an array of names") }
                    if !c.shared.contains(s) { c.shared.append(s) }
                }
            default: throw ServiceError.invalidParams("shared_budgets must be an array of names")
            }
            if let w = try string("workflow") {
                if let own = base.workflow, own != w {
                    throw ServiceError(code: -32602, status: 403, kind: "permission_error",
                                       message: "this key charges workflow \(own); it cannot report for workflow \(w)")
                }
                c.workflow = w
            }
            return c
        }
    }
}
