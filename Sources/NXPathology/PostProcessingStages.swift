/// Every intermediate map of HoVer-Net's `__proc_np_hv`, under the names the reference script
/// (Converters/python/hovernet_postproc_reference.py) saves them, so a mismatch can be traced
/// to its step. All maps are row-major, width x height.
public struct PostProcessingStages: Sendable {
    public let width: Int
    public let height: Int
    /// `blb`: NP >= threshold, components under the minimum size removed (0/1).
    public let foreground: [UInt8]
    /// `sobelh`: 1 - min-max normalised x-Sobel of the min-max normalised horizontal map.
    public let sobelH: [Float]
    /// `sobelv`: the same for the y-Sobel of the vertical map.
    public let sobelV: [Float]
    /// `overall` before thresholding: max(sobelh, sobelv) on foreground, 0 elsewhere.
    public let energy: [Double]
    /// `dist`: -GaussianBlur((1 - energy) * foreground, 3x3), the watershed's relief.
    public let dist: [Double]
    /// `marker`: the labelled, opened, size-filtered markers the watershed floods from.
    public let markers: [Int32]
    /// The watershed's result.
    public let instances: InstanceMap
}
