/// OpenCV's BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`, the default border of `Sobel` and
/// `GaussianBlur`): the in-range index that an out-of-range one reads. Reflects as often as
/// needed, so kernels wider than the image work as in `cv::borderInterpolate`.
enum ReflectBorder {
    static func index(_ position: Int, count: Int) -> Int {
        if count == 1 { return 0 }
        var p = position
        while p < 0 || p >= count {
            p = p < 0 ? -p : 2 * count - 2 - p
        }
        return p
    }
}
