package dev.whatami.userdata.internal;

import dev.whatami.userdata.Problem;
import dev.whatami.userdata.UserDataException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Byte-level decoding: bounded gunzip, BOM, strict UTF-8 with the offset of the first bad byte. */
public final class Decoder {
    public static final byte[] UTF8_BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

    private Decoder() {
    }

    /** Inflates gzip data (magic {@code 1f 8b}), refusing to produce more than {@code limit} bytes. */
    public static byte[] gunzipIfNeeded(byte[] data, int limit) {
        if (data.length < 2 || (data[0] & 0xff) != 0x1f || (data[1] & 0xff) != 0x8b) {
            return data;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(limit, Math.max(64, data.length * 4)));
        byte[] buffer = new byte[8192];
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(data), 8192)) {
            int n;
            while ((n = in.read(buffer)) != -1) {
                if (out.size() + n > limit) {
                    throw new UserDataException(Problem.whole("gzip-compressed user-data inflates past "
                            + limit + " bytes (16 MiB), the limit; is it a gzip bomb? Compress only the task "
                            + "lines or the script."));
                }
                out.write(buffer, 0, n);
            }
        } catch (EOFException e) {
            throw new UserDataException(Problem.whole("gzip-compressed user-data is truncated (it ends after "
                    + data.length + " bytes, before the end of the gzip stream); upload the whole .gz file."));
        } catch (ZipException e) {
            throw new UserDataException(Problem.whole("gzip-compressed user-data is corrupt (" + e.getMessage()
                    + "); make it again with: gzip -c user-data.txt > user-data.gz"));
        } catch (IOException e) {
            throw new UserDataException(Problem.whole("gzip-compressed user-data cannot be read: "
                    + e.getMessage()));
        }
        return out.toByteArray();
    }

    /** Refuses NUL bytes, which never belong in a script or in task lines. */
    public static void requireNoNul(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw new UserDataException(Problem.whole("user-data holds a NUL byte at offset " + i
                        + "; it looks binary. Give plain text, or gzip it (gzip -c file > file.gz)."));
            }
        }
    }

    /** Strict UTF-8; the error names the byte offset of the first invalid sequence. */
    public static String utf8(byte[] bytes) {
        requireNoNul(bytes);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int offset = in.position();
            StringBuilder hex = new StringBuilder();
            for (int i = offset; i < Math.min(bytes.length, offset + result.length()); i++) {
                hex.append(String.format("%02x ", bytes[i] & 0xff));
            }
            throw new UserDataException(Problem.whole("user-data is not valid UTF-8: byte offset " + offset
                    + " (" + hex.toString().trim() + "); save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."));
        }
        decoder.flush(out);
        out.flip();
        return out.toString();
    }
}
