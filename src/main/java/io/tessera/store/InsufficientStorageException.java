package io.tessera.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A write refused for want of disk space (507): the upload is not stored and nothing of it is left behind. Told
 * from other write failures by the free space left, not by the text of the error.
 */
public class InsufficientStorageException extends IOException {
    public InsufficientStorageException(String message) {
        super(message);
    }

    public InsufficientStorageException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * {@code e}, a failed write of {@code needed} more bytes under {@code dir}, as an InsufficientStorageException
     * when fewer than that are free there now; otherwise {@code e} itself.
     */
    public static IOException whenFull(IOException e, Path dir, long needed, String what) {
        try {
            if (Files.getFileStore(dir).getUsableSpace() < needed) {
                return new InsufficientStorageException(what + " is out of disk space; try again once space is freed", e);
            }
        } catch (IOException ignored) {
            // cannot tell: report the original failure
        }
        return e;
    }
}
