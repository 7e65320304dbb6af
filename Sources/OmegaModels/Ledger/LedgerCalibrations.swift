import Foundation
import OmegaCore

/// What the ledger remembers of each backend's and model's billing, so that
/// the next run reserves with a calibrated bound from its first call.
extension Ledger {
    /// The stored calibration of `backend` and `model`, if any.
    public func calibration(backend: String, model: String) throws -> InputBounds.Calibration? {
        try locked { try db.selectCalibration(backend: backend, model: model) }
    }

    /// Stores a calibration; each figure keeps the larger of the stored and
    /// the new value, so a bound only ever grows here.
    public func saveCalibration(_ c: InputBounds.Calibration, backend: String, model: String, at date: Date = Date()) throws {
        try locked { try db.upsertCalibration(c, backend: backend, model: model, at: date) }
    }
}
