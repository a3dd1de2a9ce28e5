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

    /// A request frame over the limit is handed on as an empty request, its body unread:
    /// libp2p does not report a failed read to the behaviour (it only logs it), so an error
    /// here would let the peer try again for free. An empty request never decodes, and the
    /// node bans whoever sends one.
    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, self.max_request).await {
            Err(e) if e.kind() == io::ErrorKind::InvalidData => Ok(Vec::new()),
            other => other,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use request_response::Codec;

    fn frame(len: usize) -> Vec<u8> {
        let mut out = (len as u32).to_be_bytes().to_vec();
        out.extend(std::iter::repeat_n(7u8, len));
        out
    }

    fn read(codec: &mut BytesCodec, bytes: Vec<u8>, request: bool) -> io::Result<Vec<u8>> {
        let protocol = StreamProtocol::new("/test/1");
        let mut io = futures::io::Cursor::new(bytes);
        futures::executor::block_on(async {
            if request {
                codec.read_request(&protocol, &mut io).await
            } else {
                codec.read_response(&protocol, &mut io).await
            }
        })
    }

    #[test]
    fn an_oversized_request_reaches_the_node_empty_so_its_sender_can_be_banned() {
        let mut codec = BytesCodec::new(1 << 20, 16);
        let within = read(&mut codec, frame(16), true).expect("within the limit");
        assert_eq!(within, vec![7u8; 16]);
        let over = read(&mut codec, frame(17), true).expect("handed on");
        assert!(over.is_empty());
        // Answers keep their own, larger limit, and a truncated frame is still an error.
        let answer = read(&mut codec, frame(1000), false).expect("an answer");
        assert_eq!(answer.len(), 1000);
        let mut truncated = frame(10);
        truncated.truncate(8);
        assert!(read(&mut codec, truncated, true).is_err());
    }
}
