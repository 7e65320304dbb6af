import Foundation
import OmegaModels

/// What a request to the service could not do, with the JSON-RPC code and
/// the HTTP status each interface answers with.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    /// The JSON-RPC 2.0 error code (`-32602` invalid params, `-32001` over budget …).
    public var code: Int
    /// The HTTP status the OpenAI-compatible endpoint and plain routes answer with.
    public var status: Int
    /// OpenAI's error `type` and `code` (`budget_exceeded`, `invalid_request_error` …).
    public var kind: String
    /// What went wrong, for people.
    public var message: String
    /// Details for programs (the refusal's scope, limit, current use and request).
    public var data: JSONValue?

    public var description: String { message }

    /// Parameters that are missing or of the wrong type.
    public static func invalidParams(_ message: String) -> ServiceError {
        ServiceError(code: -32602, status: 400, kind: "invalid_request_error", message: message)
    }
    /// A reservation id the caller does not hold.
    public static func unknownReservation(_ id: String) -> ServiceError {
        ServiceError(code: -32004, status: 404, kind: "invalid_request_error",
                     message: "no open reservation \(id) for this key (already settled, released, expired, or another key's)")
    }
    /// The ledger cannot be read or written: calls are refused, never sent unmetered.
    public static func ledger(_ message: String) -> ServiceError {
        ServiceError(code: -32003, status: 503, kind: "ledger_unavailable", message: message)
    }
    /// The service cannot take the request now.
    public static func unavailable(_ message: String) -> ServiceError {
        ServiceError(code: -32003, status: 503, kind: "service_unavailable", message: message)
    }

    /// The service's error for whatever the meter or a backend threw.
    static func from(_ error: Error) -> ServiceError {
        switch error {
        case let e as ServiceError: return e
        case let e as BudgetExceeded:
            return ServiceError(code: -32001, status: 429, kind: "budget_exceeded", message: "Error: " + seedMessage(e),
                                data: .object(["scope": .string(e.label), "unit": .string(e.unit.rawValue),
                                               "limit": BudgetService.amount(e.limit, e.unit),
                                               "current": BudgetService.amount(e.used + e.reserved, e.unit),
                                               "requested": BudgetService.amount(e.requested, e.unit)]))
        case let e as BudgetDeferred:
            return ServiceError(code: -32002, status: 429, kind: "budget_deferred", message: "\(e)")
        case let e as BudgetEmergencyStop:
            return ServiceError(code: -32002, status: 429, kind: "budget_exceeded", message: e.message)
        case let e as UnpricedModel:
            return ServiceError(code: -32602, status: 400, kind: "invalid_request_error", message: "\(e)")
        case let e as LedgerError:
            return .ledger(e.message)
        case let e as BackendError:
            let status: Int
            switch e.kind {
            case .timeout: status = 504
            case .rateLimited: status = 503
            case .client: status = e.status ?? 400
            default: status = 502
            }
            return ServiceError(code: -32010, status: status, kind: "upstream_error", message: "the model backend failed: \(e.message)")
        default:
            return ServiceError(code: -32603, status: 500, kind: "server_error", message: "\(error)")
        }
    }

    /// Seed 002's wording for a token limit (`Agent code-reviewer would
    /// exceed limit of 100000 tokens (current: 98000, requested: 5000)`,
    /// `Total budget of 1000000 tokens would be exceeded (…)`); the meter's
    /// own for the rest.
    static func seedMessage(_ e: BudgetExceeded) -> String {
        let counts = "(current: \(e.used + e.reserved), requested: \(e.requested))"
        guard e.unit == .tokens else { return e.description }
        switch e.kind {
        case .agent: return "Agent \(e.name) would exceed limit of \(e.limit) tokens \(counts)"
        case .total: return "Total budget of \(e.limit) tokens would be exceeded \(counts)"
        default: return e.description
        }
    }
}
