package dev.portico.internal.grpc;

import dev.portico.internal.policy.BodyTransform;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A backend's gRPC response body on its way to a gRPC-Web client: the messages pass through as they come (base64
 * for the text form, up to 2 bytes carried to the next part so that no padding splits a message), and the trailers
 * (those of a trailers-only head, then the backend's HTTP trailers) become a trailer frame at the end, base64'd on
 * its own for the text form as gRPC-Web clients expect. State: the carried bytes and the trailers, both bounded.
 */
final class GrpcWebResponse implements BodyTransform {
    private final ByteBufAllocator alloc;
    private final boolean text;
    private final List<Map.Entry<String, String>> trailers;
    /** The 0-2 bytes of the text form not encoded yet; null for the binary form. */
    private ByteBuf carry;

    GrpcWebResponse(ByteBufAllocator alloc, boolean text, List<Map.Entry<String, String>> headTrailers) {
        this.alloc = alloc;
        this.text = text;
        this.trailers = new ArrayList<>(headTrailers);
    }

    @Override
    public ByteBuf next(ByteBuf in) {
        if (!text) {
            return in;
        }
        ByteBuf all = carry == null ? in : Unpooled.wrappedBuffer(carry, in);
        carry = null;
        int whole = all.readableBytes() / 3 * 3;
        if (whole < all.readableBytes()) {
            carry = alloc.buffer(2).writeBytes(all, all.readerIndex() + whole, all.readableBytes() - whole);
        }
        if (whole == 0) {
            all.release();
            return Unpooled.EMPTY_BUFFER;
        }
        ByteBuf encodable = all.retainedSlice(all.readerIndex(), whole);
        all.release();
        return GrpcWebFrames.base64(encodable);
    }

    @Override
    public boolean takeTrailers(HttpHeaders fields) {
        for (Map.Entry<String, String> e : fields) {
            trailers.add(Map.entry(e.getKey(), e.getValue()));
        }
        return true;
    }

    @Override
    public ByteBuf flush() {
        return Unpooled.EMPTY_BUFFER; // the carried bytes wait for the next part or the end, as Envoy's filter does
    }

    @Override
    public ByteBuf finish() {
        ByteBuf tail = Unpooled.EMPTY_BUFFER;
        if (carry != null) {
            tail = GrpcWebFrames.base64(carry);
            carry = null;
        }
        if (trailers.isEmpty()) {
            return tail;
        }
        ByteBuf frame = GrpcWebFrames.trailerFrame(alloc, trailers);
        frame = text ? GrpcWebFrames.base64(frame) : frame;
        return tail.isReadable() ? Unpooled.wrappedBuffer(tail, frame) : frame;
    }

    @Override
    public void close() {
        if (carry != null) {
            carry.release();
            carry = null;
        }
    }
}
