using AccelBroker.Protocol.V1;
using AccelBroker.Protocol.Wire;

namespace AccelBroker.Agent.Isolation.Protocol;

// One check for a lane tensor's description, on both sides of the lane: the agent does not trust the worker's
// outputs, and the worker views its inputs in place, so neither may read past the bytes a tensor names.
internal sealed partial class LaneTensor
{
    /// <summary>Whether <see cref="Length"/> is exactly the bytes of a tensor of this dtype and shape; overflowing shapes are not.</summary>
    internal bool MakesTensor()
    {
        int size = DataTypeSizes.ElementSize((DataType)Dtype);
        try
        {
            return size != 0 && Length == DataTypeSizes.ByteCount(Shape, size);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            return false;
        }
    }
}
