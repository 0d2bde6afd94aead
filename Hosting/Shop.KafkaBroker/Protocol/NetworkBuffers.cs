using System.Buffers;

namespace Shop.KafkaBroker.Protocol;

/// <summary>
/// The pool for request frames and response buffers. Unlike <see cref="ArrayPool{T}.Shared"/>, which keeps
/// up to eight arrays per size per core, it keeps at most a few per size, so the multi-megabyte fetch
/// responses of a burst do not stay resident afterwards. Larger arrays are not pooled at all.
/// </summary>
public static class NetworkBuffers
{
    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(maxArrayLength: 16 * 1024 * 1024, maxArraysPerBucket: 4);
}
