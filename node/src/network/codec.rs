//! Wire format of the sync request-response protocol: opaque bytes behind a length prefix.
//!
//! The node already serializes its own sync messages, so the network moves bytes and nothing
//! else. Each request and each response is one frame: a 4-byte big-endian length followed by
//! that many bytes. The length is checked against `max_message_bytes` before anything is
//! buffered, and the buffer only grows as bytes actually arrive, so a peer announcing a huge
//! frame cannot make us allocate it up front.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{request_response, StreamProtocol};

/// Length-prefixed bytes codec with a size cap, used by the sync protocol.
#[derive(Debug, Clone)]
pub(crate) struct BytesCodec {
    /// Largest response payload accepted or sent.
    max: usize,
    /// Largest request payload accepted or sent: far smaller, since a valid request is a
    /// few bytes and a peer must not make us buffer megabytes for nothing.
    max_request: usize,
}

impl BytesCodec {
    /// `max` must fit in the 4-byte length prefix; [`super::spawn`] checks that.
    pub(crate) fn new(max: usize, max_request: usize) -> Self {
        Self {
            max,
            max_request: max_request.min(max),
        }
    }
}

/// Reads one frame, refusing a length above `max`.
async fn read_frame<T>(io: &mut T, max: usize) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes exceeds the limit of {max} bytes"),
        ));
    }
    let mut buf = Vec::new();
    io.take(len as u64).read_to_end(&mut buf).await?;
    if buf.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("frame truncated at {} of {len} bytes", buf.len()),
        ));
    }
    Ok(buf)
}

/// Writes one frame, refusing a payload above `max` (the peer would refuse it anyway).
async fn write_frame<T>(io: &mut T, data: &[u8], max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = u32::try_from(data.len())
        .ok()
        .filter(|_| data.len() <= max)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "frame of {} bytes exceeds the limit of {max} bytes",
                    data.len()
                ),
            )
        })?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(data).await?;
    io.flush().await
}

impl request_response::Codec for BytesCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_request).await
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &req, self.max_request).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max).await
    }
}
